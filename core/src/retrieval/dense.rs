//! An in-memory vector index: L2-normalised vectors quantised to `i8`, scanned exactly.
//!
//! A flat scan of 100k × 384 `i8` values (38 MB) takes a few milliseconds and has no recall
//! loss, which an approximate graph would trade for little here.

use super::bm25::top_k;

/// Quantisation scale: a unit vector's components lie in [-1, 1].
pub(crate) const SCALE: f32 = 127.0;

/// Vectors of one model, row `n` for passage `n` (all zero when the passage has none).
pub struct DenseIndex {
    dims: usize,
    data: Vec<i8>,
    rows: usize,
}

/// Quantises one unit vector.
pub(crate) fn quantise(v: &[f32], out: &mut Vec<i8>) {
    out.extend(
        v.iter()
            .map(|x| (x * SCALE).round().clamp(-127.0, 127.0) as i8),
    );
}

/// Dot product of two quantised rows.
#[inline]
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    // Chunked so the compiler vectorises the widening multiply-adds.
    let mut acc = [0i32; 16];
    let chunks = a.len() / 16 * 16;
    for (ca, cb) in a[..chunks]
        .chunks_exact(16)
        .zip(b[..chunks].chunks_exact(16))
    {
        for i in 0..16 {
            acc[i] += ca[i] as i32 * cb[i] as i32;
        }
    }
    let mut sum: i32 = acc.iter().sum();
    for i in chunks..a.len() {
        sum += a[i] as i32 * b[i] as i32;
    }
    sum
}

impl DenseIndex {
    /// An index for vectors of `dims` values.
    pub fn new(dims: usize) -> Self {
        DenseIndex {
            dims,
            data: Vec::new(),
            rows: 0,
        }
    }

    /// Appends the next passage's vector; `None` (or a vector of another length) adds a zero row.
    pub fn push(&mut self, v: Option<&[f32]>) {
        match v {
            Some(v) if v.len() == self.dims => quantise(v, &mut self.data),
            _ => self.data.extend(std::iter::repeat_n(0i8, self.dims)),
        }
        self.rows += 1;
    }

    /// Vector length.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Cosine similarity of the query with passage `row`.
    pub fn similarity(&self, query: &[i8], row: u32) -> f32 {
        let r = row as usize;
        let v = &self.data[r * self.dims..(r + 1) * self.dims];
        dot_i8(query, v) as f32 / (SCALE * SCALE)
    }

    /// Quantises a query vector for [`similarity`](Self::similarity) and [`search`](Self::search).
    pub fn query(&self, v: &[f32]) -> Option<Vec<i8>> {
        (v.len() == self.dims).then(|| {
            let mut q = Vec::with_capacity(self.dims);
            quantise(v, &mut q);
            q
        })
    }

    /// The `k` most similar passages, best first, with their cosine similarity.
    pub fn search(&self, query: &[i8], k: usize) -> Vec<(u32, f32)> {
        if self.dims == 0 || self.rows == 0 {
            return Vec::new();
        }
        let scores = self
            .data
            .chunks_exact(self.dims)
            .enumerate()
            .map(|(n, row)| (n as u32, dot_i8(query, row) as f32 / (SCALE * SCALE)))
            .filter(|(_, s)| *s > 0.0);
        top_k(scores, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn finds_the_nearest_vector() {
        let mut idx = DenseIndex::new(3);
        idx.push(Some(&unit(&[1.0, 0.0, 0.0])));
        idx.push(Some(&unit(&[0.0, 1.0, 0.0])));
        idx.push(None);
        idx.push(Some(&unit(&[0.7, 0.7, 0.1])));
        let q = idx.query(&unit(&[0.9, 0.8, 0.0])).unwrap();
        let hits = idx.search(&q, 2);
        assert_eq!(hits[0].0, 3);
        assert!((hits[0].1 - 0.99).abs() < 0.03, "{hits:?}");
        assert!(idx.similarity(&q, 2).abs() < 1e-6);
        assert!(idx.query(&[1.0, 0.0]).is_none());
    }

    #[test]
    fn quantised_dot_matches_float_dot() {
        let a = unit(
            &(0..384)
                .map(|i| ((i * 7 % 13) as f32) - 6.0)
                .collect::<Vec<_>>(),
        );
        let b = unit(
            &(0..384)
                .map(|i| ((i * 5 % 11) as f32) - 5.0)
                .collect::<Vec<_>>(),
        );
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let mut idx = DenseIndex::new(384);
        idx.push(Some(&b));
        let q = idx.query(&a).unwrap();
        assert!((idx.similarity(&q, 0) - exact).abs() < 0.01);
    }
}

//! An in-memory BM25 index over an agent's passages.

use std::collections::HashMap;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Postings of one term: passage numbers (ascending) and term frequencies (capped at 255).
#[derive(Default)]
struct Postings {
    docs: Vec<u32>,
    tfs: Vec<u8>,
}

/// Inverted index with document lengths, built once per knowledge version.
#[derive(Default)]
pub struct Bm25Index {
    postings: HashMap<String, Postings>,
    lengths: Vec<u32>,
    avg_len: f32,
}

impl Bm25Index {
    /// Indexes passages given as their term lists, numbered in order.
    pub fn build<I, T>(docs: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[String]>,
    {
        let mut idx = Bm25Index::default();
        for (n, terms) in docs.into_iter().enumerate() {
            let terms = terms.as_ref();
            let mut counts: HashMap<&str, u32> = HashMap::new();
            for t in terms {
                *counts.entry(t.as_str()).or_default() += 1;
            }
            for (t, c) in &counts {
                let p = match idx.postings.get_mut(*t) {
                    Some(p) => p,
                    None => idx.postings.entry((*t).to_string()).or_default(),
                };
                p.docs.push(n as u32);
                p.tfs.push((*c).min(255) as u8);
            }
            idx.lengths.push(terms.len() as u32);
        }
        let total: u64 = idx.lengths.iter().map(|&l| l as u64).sum();
        idx.avg_len = if idx.lengths.is_empty() {
            1.0
        } else {
            (total as f32 / idx.lengths.len() as f32).max(1.0)
        };
        for p in idx.postings.values_mut() {
            p.docs.shrink_to_fit();
            p.tfs.shrink_to_fit();
        }
        idx
    }

    /// Number of passages.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Inverse document frequency (BM25+ style, never negative); 0 for unknown terms.
    pub fn idf(&self, term: &str) -> f32 {
        let n = self.lengths.len() as f32;
        match self.postings.get(term) {
            Some(p) => {
                let df = p.docs.len() as f32;
                ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
            }
            None => 0.0,
        }
    }

    /// The IDF a term would have if it occurred in no passage: what an unknown word weighs.
    pub fn max_idf(&self) -> f32 {
        let n = self.lengths.len() as f32;
        ((n + 0.5) / 0.5 + 1.0).ln()
    }

    /// Whether any passage contains `term`.
    pub fn knows(&self, term: &str) -> bool {
        self.postings.contains_key(term)
    }

    /// The indexed term one edit (a letter added, dropped, changed or two swapped) away from an
    /// unknown `term` of five or more letters — a typo — the most frequent if several.
    pub fn correct(&self, term: &str) -> Option<&str> {
        let n = term.chars().count();
        if n < 5 || self.postings.contains_key(term) {
            return None;
        }
        let t: Vec<char> = term.chars().collect();
        self.postings
            .iter()
            .filter(|(k, _)| k.len().abs_diff(term.len()) <= 2)
            .filter(|(k, _)| one_edit(&t, k))
            .max_by(|a, b| a.1.docs.len().cmp(&b.1.docs.len()).then(b.0.cmp(a.0)))
            .map(|(k, _)| k.as_str())
    }

    /// Whether passage `doc` contains `term`.
    pub fn contains(&self, term: &str, doc: u32) -> bool {
        self.postings
            .get(term)
            .is_some_and(|p| p.docs.binary_search(&doc).is_ok())
    }

    /// The `k` best passages for the query terms, best first, with their BM25 scores.
    pub fn search(&self, query: &[String], k: usize) -> Vec<(u32, f32)> {
        if self.lengths.is_empty() || k == 0 {
            return Vec::new();
        }
        // Dense accumulation: cheaper than a map when common terms touch most passages.
        let mut scores = vec![0f32; self.lengths.len()];
        let mut seen = std::collections::HashSet::new();
        for term in query {
            if !seen.insert(term.as_str()) {
                continue;
            }
            let Some(p) = self.postings.get(term) else {
                continue;
            };
            let idf = self.idf(term);
            for (&doc, &tf) in p.docs.iter().zip(&p.tfs) {
                let tf = tf as f32;
                let len = self.lengths[doc as usize] as f32;
                scores[doc as usize] +=
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / self.avg_len));
            }
        }
        let hits = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(d, s)| (d as u32, s));
        top_k(hits, k)
    }
}

/// Whether `b` is one edit (insertion, deletion, substitution, adjacent swap) away from `a`.
fn one_edit(a: &[char], b: &str) -> bool {
    let b: Vec<char> = b.chars().collect();
    if a == b.as_slice() || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ra, rb) = (a.len() - pre - suf, b.len() - pre - suf);
    match (ra, rb) {
        (1, 0) | (0, 1) | (1, 1) => true,
        // An adjacent swap: "retrun" / "return".
        (2, 2) => a[pre] == b[pre + 1] && a[pre + 1] == b[pre],
        _ => false,
    }
}

/// The `k` highest-scored items, best first (ties by lower number).
pub fn top_k(items: impl Iterator<Item = (u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = items.collect();
    let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if v.len() > k {
        v.select_nth_unstable_by(k, cmp);
        v.truncate(k);
    }
    v.sort_by(cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retrieval::terms::terms;

    fn index(texts: &[&str]) -> Bm25Index {
        Bm25Index::build(texts.iter().map(|t| terms(t)))
    }

    #[test]
    fn ranks_the_passage_with_the_rare_terms_first() {
        let idx = index(&[
            "Shipping takes three days within the country.",
            "Returns are accepted within 30 days of delivery with a receipt.",
            "Our shop opens at nine. The shop closes at six.",
        ]);
        let hits = idx.search(&terms("How many days do I have to return an item?"), 3);
        assert_eq!(hits[0].0, 1, "{hits:?}");
        assert!(hits.iter().all(|h| h.1 > 0.0));
        let hits = idx.search(&terms("when does the shop open"), 3);
        assert_eq!(hits[0].0, 2);
        assert!(idx.search(&terms("quantum chromodynamics"), 3).is_empty());
    }

    #[test]
    fn idf_and_membership() {
        let idx = index(&["kiwi banana", "kiwi cherry", "kiwi"]);
        assert!(idx.idf("cherry") > idx.idf("kiwi"));
        assert!(idx.idf("kiwi") > 0.0);
        assert_eq!(idx.idf("durian"), 0.0);
        assert!(idx.max_idf() > idx.idf("cherry"));
        assert!(idx.contains("cherry", 1));
        assert!(!idx.contains("cherry", 0));
    }

    #[test]
    fn corrects_one_typo_to_a_known_term() {
        let idx = index(&["Returns within thirty days", "Delivery to Canada"]);
        assert_eq!(idx.correct("retrun"), Some("return"));
        assert_eq!(idx.correct("delivry"), Some("delivery"));
        assert_eq!(idx.correct("canadaa"), Some("canada"));
        assert_eq!(idx.correct("mexico"), None);
        assert_eq!(idx.correct("return"), None);
        assert_eq!(idx.correct("dayz"), None, "too short to guess");
    }

    #[test]
    fn top_k_orders_and_cuts() {
        let v = top_k([(0, 1.0), (1, 3.0), (2, 2.0), (3, 3.0)].into_iter(), 2);
        assert_eq!(v, vec![(1, 3.0), (3, 3.0)]);
    }
}

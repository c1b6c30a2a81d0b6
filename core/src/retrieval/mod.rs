//! Hybrid retrieval: BM25 keywords and dense vectors over one agent's passages, fused, with
//! the evidence measures the answerer uses to decide whether it may answer at all.

pub mod bm25;
pub mod dense;
pub mod gate;
mod index;
pub mod intent;
pub mod sentences;
pub mod terms;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use index::{AgentIndex, SearchIndexes};

use crate::Context;
use crate::error::Result;
use otoq_entities::chunks;

/// Candidates taken from each ranking before fusion.
const DEPTH: usize = 50;
/// Reciprocal rank fusion constant.
const RRF_K: f32 = 60.0;

/// One retrieved passage with the evidence that it answers the query.
#[derive(Clone, Debug)]
pub struct Passage {
    pub chunk_id: Uuid,
    pub source_id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub url: Option<String>,
    pub heading_path: Vec<String>,
    pub text: String,
    /// Cosine similarity of the question and the passage (or its closest sentence, when that
    /// is closer), when vectors exist.
    pub similarity: Option<f32>,
    /// Share of the question's content-word weight (IDF) found in the passage, 0–1.
    pub coverage: f32,
    /// The passage's sentence closest in meaning to the question, when its sentences have vectors.
    pub closest_sentence: Option<String>,
    /// How strongly the passage supports answering, 0–1 (see [`gate::score`]).
    pub score: f32,
}

/// The passages found for a query, best first.
#[derive(Clone, Debug, Default)]
pub struct Retrieved {
    pub passages: Vec<Passage>,
    /// Whether vectors took part (an embedder is configured and the passages have vectors).
    pub dense: bool,
    /// The least score to answer from (the gate's threshold for the vectors that took part).
    pub threshold: f32,
    /// Time spent, including the query's embedding.
    pub elapsed: Duration,
}

impl Retrieved {
    /// The best passage's score, 0 when nothing was found.
    pub fn confidence(&self) -> f32 {
        self.passages.first().map_or(0.0, |p| p.score)
    }
}

/// The question's content terms as searched: question words dropped (all terms when nothing is
/// left), typos of known terms corrected.
pub fn search_terms(index: &AgentIndex, query: &str) -> Vec<String> {
    let mut t = terms::query_terms(query);
    if t.is_empty() {
        t = terms::terms(query);
    }
    for term in t.iter_mut() {
        if let Some(fixed) = index.bm25.correct(term) {
            *term = fixed.to_string();
        }
    }
    t
}

/// The keyword weight of each distinct query term: its IDF, and for a word no passage has the
/// weight of the heaviest known one (a question about something absent must not look covered
/// by its common words, and an unseen word must not outweigh all the rest either).
pub fn term_weights(index: &AgentIndex, q_terms: &[String]) -> Vec<(String, f32)> {
    let mut distinct: Vec<String> = Vec::new();
    for t in q_terms {
        if !distinct.contains(t) {
            distinct.push(t.clone());
        }
    }
    let known: Vec<f32> = distinct
        .iter()
        .filter(|t| index.bm25.knows(t))
        .map(|t| index.bm25.idf(t))
        .collect();
    let unseen = known.iter().copied().fold(0.0f32, f32::max).max(1e-3);
    distinct
        .into_iter()
        .map(|t| {
            let w = if index.bm25.knows(&t) {
                index.bm25.idf(&t).max(1e-3)
            } else {
                unseen
            };
            (t, w)
        })
        .collect()
}

/// Finds the `k` passages of `agent_id` that best answer `query`.
pub async fn search(ctx: &Context, agent_id: Uuid, query: &str, k: usize) -> Result<Retrieved> {
    let started = Instant::now();
    let embedder = ctx.embedder().await;
    let model = embedder.as_ref().map(|e| e.id().to_string());
    let index = ctx.search.get(&ctx.db, agent_id, model.as_deref()).await?;
    if index.ids.is_empty() {
        return Ok(Retrieved {
            elapsed: started.elapsed(),
            ..Default::default()
        });
    }
    // The keyword ranking runs on the other core while the question is embedded.
    let keyword = tokio::task::spawn_blocking({
        let index = index.clone();
        let query = query.to_string();
        move || {
            let q_terms = search_terms(&index, &query);
            let hits = index.bm25.search(&q_terms, DEPTH);
            (q_terms, hits)
        }
    });
    let query_vector = match (&embedder, &index.dense) {
        (Some(e), Some(d)) => match e.embed_query(query).await {
            Ok(v) => d.query(&v),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "query embedding failed; keyword search only");
                None
            }
        },
        _ => None,
    };
    let (q_terms, keyword) = keyword
        .await
        .map_err(|e| anyhow::anyhow!("search failed: {e}"))?;
    let ranked = tokio::task::spawn_blocking({
        let index = index.clone();
        let q_terms = q_terms.clone();
        let qv = query_vector.clone();
        // A few more than asked for: the gate's final score may reorder them.
        move || rank(&index, keyword, &q_terms, qv.as_deref(), k + 4)
    })
    .await
    .map_err(|e| anyhow::anyhow!("search failed: {e}"))?;
    let dense = index.dense.is_some() && ranked.iter().any(|r| r.1.is_some());
    let cal = calibration(&index, dense);
    let mut loaded = load(ctx, &index, ranked, query_vector.as_deref()).await?;
    let weights = term_weights(&index, &q_terms);
    assess(query, &weights, &mut loaded, &cal);
    let passages = loaded.into_iter().take(k).map(|l| l.passage).collect();
    Ok(Retrieved {
        passages,
        dense,
        threshold: cal.threshold,
        elapsed: started.elapsed(),
    })
}

/// How the gate reads the index's similarities: its model's calibration when vectors take part.
fn calibration(index: &AgentIndex, dense: bool) -> gate::Calibration {
    gate::Calibration::for_model(index.model.as_deref().filter(|_| dense))
}

/// Scores each loaded passage with the gate (see [`gate::score_with`]) and orders them best first.
fn assess(
    query: &str,
    weights: &[(String, f32)],
    passages: &mut [Loaded],
    cal: &gate::Calibration,
) {
    let kind = intent::answer_type(query);
    for l in passages.iter_mut() {
        let sentences = crate::answer::extractive::sentences(&l.passage.text);
        let about = |s: &str| {
            let st = terms::terms(s);
            weights.iter().any(|(t, _)| st.contains(t))
        };
        l.signals.type_match = gate::type_match(kind, &sentences, about);
        l.passage.score = gate::score_with(&l.signals, cal);
        l.passage.similarity = gate::meaning(&l.signals);
    }
    passages.sort_by(|a, b| {
        b.passage
            .score
            .total_cmp(&a.passage.score)
            .then(a.order.cmp(&b.order))
    });
}

/// Fuses the `keyword` ranking (BM25 of `q_terms`, best first) with the vector ranking and
/// scores the evidence of the best candidates before their text is read: `(passage number,
/// similarity, coverage, score)`, best first.
pub fn rank(
    index: &AgentIndex,
    keyword: Vec<(u32, f32)>,
    q_terms: &[String],
    query_vector: Option<&[i8]>,
    k: usize,
) -> Vec<(u32, Option<f32>, f32, f32)> {
    let vector = match (&index.dense, query_vector) {
        (Some(d), Some(q)) => d.search(q, DEPTH),
        _ => Vec::new(),
    };
    let mut fused: HashMap<u32, f32> = HashMap::new();
    for list in [&keyword, &vector] {
        for (rank, (doc, _)) in list.iter().enumerate() {
            *fused.entry(*doc).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let pool = bm25::top_k(fused.into_iter(), 2 * k.max(10));
    let cal = calibration(index, index.dense.is_some() && query_vector.is_some());
    let weights = term_weights(index, q_terms);
    let total: f32 = weights.iter().map(|(_, w)| w).sum();
    let mut scored: Vec<(u32, Option<f32>, f32, f32)> = pool
        .into_iter()
        .map(|(doc, rrf)| {
            let covered: f32 = weights
                .iter()
                .filter(|(t, _)| index.bm25.contains(t, doc))
                .map(|(_, w)| *w)
                .sum();
            let coverage = if total > 0.0 { covered / total } else { 0.0 };
            let similarity = match (&index.dense, query_vector) {
                (Some(d), Some(q)) => Some(d.similarity(q, doc)),
                _ => None,
            };
            let signals = gate::Signals {
                similarity,
                coverage,
                type_match: true,
                ..Default::default()
            };
            // Rank by evidence, with the fused rank as a small tie-breaker.
            let score = gate::score_with(&signals, &cal);
            (doc, similarity, coverage, score + rrf)
        })
        .collect();
    scored.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
    scored.truncate(k);
    scored
}

/// A passage read for the gate, with its signals and its place in the fused ranking.
struct Loaded {
    passage: Passage,
    signals: gate::Signals,
    order: usize,
}

/// Reads the ranked passages' text and metadata, and the similarity of their closest sentence.
async fn load(
    ctx: &Context,
    index: &AgentIndex,
    ranked: Vec<(u32, Option<f32>, f32, f32)>,
    query_vector: Option<&[i8]>,
) -> Result<Vec<Loaded>> {
    let ids: Vec<Uuid> = ranked.iter().map(|r| index.ids[r.0 as usize]).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = chunks::Entity::find()
        .filter(chunks::Column::Id.is_in(ids.clone()))
        .all(&ctx.db)
        .await?;
    let mut by_id: HashMap<Uuid, chunks::Model> = rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ranked
        .into_iter()
        .zip(ids)
        .enumerate()
        .filter_map(|(order, ((_, similarity, coverage, score), id))| {
            // A passage replaced since the index was read is skipped.
            let c = by_id.remove(&id)?;
            let closest = match (&c.sentence_embeddings, &index.model, query_vector) {
                (Some(stored), Some(model), Some(q)) => sentences::closest(stored, model, q),
                _ => None,
            };
            let sentence_similarity = closest.map(|(_, sim)| sim);
            let closest_sentence =
                closest.and_then(|(i, _)| sentences::embeddable(&c.text).into_iter().nth(i));
            let signals = gate::Signals {
                similarity,
                sentence_similarity,
                coverage,
                type_match: true,
            };
            Some(Loaded {
                passage: Passage {
                    chunk_id: c.id,
                    source_id: c.source_id,
                    document_id: c.document_id,
                    title: c.title,
                    url: c.url,
                    heading_path: serde_json::from_value(c.heading_path).unwrap_or_default(),
                    text: c.text,
                    similarity,
                    coverage,
                    closest_sentence,
                    score,
                },
                signals,
                order,
            })
        })
        .collect())
}

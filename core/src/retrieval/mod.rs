//! Hybrid retrieval: BM25 keywords and dense vectors over one agent's passages, fused, with
//! the evidence measures the answerer uses to decide whether it may answer at all.

pub mod bm25;
pub mod dense;
mod index;
pub mod terms;

use std::collections::{HashMap, HashSet};
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
    /// Cosine similarity of query and passage vectors, when both exist.
    pub similarity: Option<f32>,
    /// Share of the query's keyword weight (IDF) found in the passage, 0–1.
    pub coverage: f32,
    /// How strongly the passage supports answering, 0–1 (see [`evidence`]).
    pub score: f32,
}

/// The passages found for a query, best first.
#[derive(Clone, Debug, Default)]
pub struct Retrieved {
    pub passages: Vec<Passage>,
    /// Whether vectors took part (an embedder is configured and the passages have vectors).
    pub dense: bool,
    /// Time spent, including the query's embedding.
    pub elapsed: Duration,
}

impl Retrieved {
    /// The best passage's score, 0 when nothing was found.
    pub fn confidence(&self) -> f32 {
        self.passages.first().map_or(0.0, |p| p.score)
    }
}

/// How strongly a passage supports answering: a blend of vector similarity and keyword
/// coverage, or coverage alone without vectors.
pub fn evidence(similarity: Option<f32>, coverage: f32) -> f32 {
    match similarity {
        Some(sim) => (0.65 * sim + 0.35 * coverage).clamp(0.0, 1.0),
        None => coverage.clamp(0.0, 1.0),
    }
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
    let q_terms = terms::terms(query);
    // The keyword ranking runs on the other core while the question is embedded.
    let keyword = tokio::task::spawn_blocking({
        let index = index.clone();
        let q_terms = q_terms.clone();
        move || index.bm25.search(&q_terms, DEPTH)
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
    let keyword = keyword
        .await
        .map_err(|e| anyhow::anyhow!("search failed: {e}"))?;
    let ranked = tokio::task::spawn_blocking({
        let index = index.clone();
        move || rank(&index, keyword, &q_terms, query_vector.as_deref(), k)
    })
    .await
    .map_err(|e| anyhow::anyhow!("search failed: {e}"))?;
    let dense = index.dense.is_some() && ranked.iter().any(|r| r.1.is_some());
    let passages = load(ctx, &index, ranked).await?;
    Ok(Retrieved {
        passages,
        dense,
        elapsed: started.elapsed(),
    })
}

/// Fuses the `keyword` ranking (BM25 of `q_terms`, best first) with the vector ranking and
/// scores the evidence of the best candidates: `(passage number, similarity, coverage, score)`,
/// best first.
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

    let distinct: Vec<&String> = {
        let mut seen = HashSet::new();
        q_terms.iter().filter(|t| seen.insert(t.as_str())).collect()
    };
    // Words no passage has weigh as much as the rarest: a question about something absent
    // from the knowledge must not look covered because its common words are.
    let weights: Vec<f32> = distinct
        .iter()
        .map(|t| match index.bm25.idf(t) {
            0.0 => index.bm25.max_idf(),
            w => w,
        })
        .collect();
    let total: f32 = weights.iter().sum();
    let mut scored: Vec<(u32, Option<f32>, f32, f32)> = pool
        .into_iter()
        .map(|(doc, rrf)| {
            let covered: f32 = distinct
                .iter()
                .zip(&weights)
                .filter(|(t, _)| index.bm25.contains(t, doc))
                .map(|(_, w)| *w)
                .sum();
            let coverage = if total > 0.0 { covered / total } else { 0.0 };
            let similarity = match (&index.dense, query_vector) {
                (Some(d), Some(q)) => Some(d.similarity(q, doc)),
                _ => None,
            };
            // Rank by evidence, with the fused rank as a small tie-breaker.
            let score = evidence(similarity, coverage);
            (doc, similarity, coverage, score + rrf)
        })
        .collect();
    scored.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
    scored.truncate(k);
    for s in scored.iter_mut() {
        s.3 = evidence(s.1, s.2);
    }
    scored
}

/// Reads the ranked passages' text and metadata.
async fn load(
    ctx: &Context,
    index: &AgentIndex,
    ranked: Vec<(u32, Option<f32>, f32, f32)>,
) -> Result<Vec<Passage>> {
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
        .filter_map(|((_, similarity, coverage, score), id)| {
            // A passage replaced since the index was read is skipped.
            let c = by_id.remove(&id)?;
            Some(Passage {
                chunk_id: c.id,
                source_id: c.source_id,
                document_id: c.document_id,
                title: c.title,
                url: c.url,
                heading_path: serde_json::from_value(c.heading_path).unwrap_or_default(),
                text: c.text,
                similarity,
                coverage,
                score,
            })
        })
        .collect())
}

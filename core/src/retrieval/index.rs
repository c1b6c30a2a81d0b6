//! The per-process cache of agents' search indexes, rebuilt when an agent's knowledge changes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::bm25::Bm25Index;
use super::dense::DenseIndex;
use super::terms::terms;
use crate::db::statement;
use crate::error::Result;
use crate::knowledge::store::bytes_vector;
use otoq_entities::chunks;

/// Everything searchable of one agent at one knowledge version.
pub struct AgentIndex {
    /// The knowledge version this index was built from.
    pub version: i64,
    /// Chunk id of each passage number.
    pub ids: Vec<Uuid>,
    pub bm25: Bm25Index,
    /// Vectors of the model named by `model`, when there is an embedder.
    pub dense: Option<DenseIndex>,
    pub model: Option<String>,
}

struct Slot {
    index: tokio::sync::Mutex<Option<Arc<AgentIndex>>>,
    last_used: AtomicU64,
    rows: AtomicU64,
}

/// The indexes of the agents this process answered for recently, bounded by total passages.
pub struct SearchIndexes {
    slots: Mutex<HashMap<Uuid, Arc<Slot>>>,
    clock: AtomicU64,
    max_rows: u64,
}

impl SearchIndexes {
    /// A cache that keeps at most about `max_rows` passages in memory.
    pub fn new(max_rows: u64) -> Self {
        SearchIndexes {
            slots: Mutex::default(),
            clock: AtomicU64::new(0),
            max_rows,
        }
    }

    /// The agent's index at its current knowledge version, built (once) if needed.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        agent_id: Uuid,
        model: Option<&str>,
    ) -> Result<Arc<AgentIndex>> {
        let version = knowledge_version(db, agent_id).await?;
        let slot = {
            let mut slots = self.slots.lock().expect("index cache lock");
            slots
                .entry(agent_id)
                .or_insert_with(|| {
                    Arc::new(Slot {
                        index: tokio::sync::Mutex::new(None),
                        last_used: AtomicU64::new(0),
                        rows: AtomicU64::new(0),
                    })
                })
                .clone()
        };
        slot.last_used.store(
            self.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        let mut guard = slot.index.lock().await;
        if let Some(idx) = guard.as_ref()
            && idx.version == version
            && idx.model.as_deref() == model
        {
            return Ok(idx.clone());
        }
        let built = Arc::new(build(db, agent_id, version, model).await?);
        slot.rows.store(built.ids.len() as u64, Ordering::Relaxed);
        *guard = Some(built.clone());
        drop(guard);
        self.evict(agent_id);
        Ok(built)
    }

    /// Drops the least recently used indexes while the total is over the bound.
    fn evict(&self, keep: Uuid) {
        let mut slots = self.slots.lock().expect("index cache lock");
        loop {
            let total: u64 = slots.values().map(|s| s.rows.load(Ordering::Relaxed)).sum();
            if total <= self.max_rows {
                return;
            }
            let oldest = slots
                .iter()
                .filter(|(id, _)| **id != keep)
                .min_by_key(|(_, s)| s.last_used.load(Ordering::Relaxed))
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => {
                    slots.remove(&id);
                }
                None => return,
            }
        }
    }
}

/// The agent's knowledge version, read fresh from the database.
async fn knowledge_version(db: &DatabaseConnection, agent_id: Uuid) -> Result<i64> {
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(statement(
            db,
            "SELECT knowledge_version FROM agents WHERE id = {}",
            [agent_id.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Passages read per query while building.
const PAGE: u64 = 5_000;

type Row = (
    Uuid,
    String,
    serde_json::Value,
    String,
    Option<Vec<u8>>,
    Option<String>,
);

/// Reads the agent's active passages and indexes them.
async fn build(
    db: &DatabaseConnection,
    agent_id: Uuid,
    version: i64,
    model: Option<&str>,
) -> Result<AgentIndex> {
    let started = std::time::Instant::now();
    let mut ids = Vec::new();
    let mut docs: Vec<String> = Vec::new();
    let mut dense: Option<DenseIndex> = None;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = chunks::Entity::find()
            .select_only()
            .columns([
                chunks::Column::Id,
                chunks::Column::Title,
                chunks::Column::HeadingPath,
                chunks::Column::Text,
                chunks::Column::Embedding,
                chunks::Column::EmbeddingModel,
            ])
            .filter(chunks::Column::AgentId.eq(agent_id))
            .filter(chunks::Column::Active.eq(true))
            .order_by_asc(chunks::Column::Id)
            .limit(PAGE);
        if let Some(a) = after {
            q = q.filter(chunks::Column::Id.gt(a));
        }
        let page: Vec<Row> = q.into_tuple().all(db).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        let full = page.len() as u64 == PAGE;
        for (id, title, headings, text, embedding, emb_model) in page {
            let mut all = title;
            if let Some(h) = headings.as_array() {
                for part in h.iter().filter_map(|v| v.as_str()) {
                    all.push('\n');
                    all.push_str(part);
                }
            }
            all.push('\n');
            all.push_str(&text);
            docs.push(all);
            ids.push(id);
            let vector = match (model, emb_model.as_deref(), embedding) {
                (Some(m), Some(em), Some(bytes)) if m == em => Some(bytes_vector(&bytes)),
                _ => None,
            };
            if dense.is_none()
                && let Some(v) = &vector
            {
                let mut d = DenseIndex::new(v.len());
                for _ in 1..ids.len() {
                    d.push(None);
                }
                dense = Some(d);
            }
            if let Some(d) = dense.as_mut() {
                d.push(vector.as_deref());
            }
        }
        if !full {
            break;
        }
    }
    let bm25 = tokio::task::spawn_blocking(move || Bm25Index::build(docs.iter().map(|d| terms(d))))
        .await
        .map_err(|e| anyhow::anyhow!("index build failed: {e}"))?;
    tracing::debug!(%agent_id, passages = ids.len(), ms = started.elapsed().as_millis() as u64, "search index built");
    Ok(AgentIndex {
        version,
        ids,
        bm25,
        dense,
        model: model.map(str::to_string),
    })
}

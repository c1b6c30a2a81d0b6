//! Where documents and chunks are kept during and after a sync.
//!
//! A sync run stages each new or changed document's chunks inactive (tagged with the run id)
//! and swaps them in with [`finish`], in one transaction, together with the removal of the
//! documents the run no longer saw. Until then the previous chunks keep answering. A run that
//! is resumed after a crash finds what it staged already and does not stage it twice.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ExtractedDoc;
use crate::db::statement;
use crate::error::Result;
use otoq_entities::{chunks, document_failures, documents, source_files, sources};

/// A document about to be staged.
#[derive(Clone, Debug)]
pub struct DocInput {
    pub key: String,
    pub title: String,
    pub url: Option<String>,
    pub partial: Option<String>,
    pub hash: String,
}

/// One chunk about to be staged, with its embedding if there is an embedder.
#[derive(Clone, Debug)]
pub struct StagedChunk {
    pub text: String,
    pub heading_path: Vec<String>,
    pub tokens: usize,
    pub embedding: Option<Vec<f32>>,
    /// Vectors of the text's [`crate::retrieval::sentences::embeddable`] sentences, in order.
    pub sentence_embeddings: Vec<Vec<f32>>,
}

/// What a run must do with a document it just read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocState {
    /// Same content as the active chunks: nothing to embed.
    Unchanged,
    /// This run already staged exactly this content (it is being resumed).
    AlreadyStaged,
    /// New or changed: chunk, embed and stage it.
    Stage,
}

/// The content hash of an extracted document (title, headings and text).
pub fn content_hash(doc: &ExtractedDoc) -> String {
    let mut h = Sha256::new();
    h.update(doc.title.as_bytes());
    for s in &doc.sections {
        h.update([0u8]);
        for part in &s.heading_path {
            h.update(part.as_bytes());
            h.update([1u8]);
        }
        h.update(s.text.as_bytes());
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes a vector as little-endian f32 bytes.
pub fn vector_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Decodes little-endian f32 bytes.
pub fn bytes_vector(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Decides what `run` must do with the document `key` of `source_id` whose content hashes to `hash`,
/// and records that the run saw it.
pub async fn doc_state(
    db: &DatabaseConnection,
    source_id: Uuid,
    key: &str,
    hash: &str,
    run: Uuid,
) -> Result<DocState> {
    let Some(doc) = documents::Entity::find()
        .filter(documents::Column::SourceId.eq(source_id))
        .filter(documents::Column::Key.eq(key))
        .one(db)
        .await?
    else {
        return Ok(DocState::Stage);
    };
    if doc.seen_run == Some(run) && doc.staged_hash.as_deref() == Some(hash) {
        return Ok(DocState::AlreadyStaged);
    }
    if doc.content_hash.as_deref() == Some(hash) {
        // Unchanged: drop anything an earlier attempt of this run staged for it.
        db.execute_raw(statement(
            db,
            "DELETE FROM chunks WHERE document_id = {} AND active = false",
            [doc.id.into()],
        ))
        .await?;
        db.execute_raw(statement(
            db,
            "UPDATE documents SET seen_run = {}, staged_hash = NULL WHERE id = {}",
            [run.into(), doc.id.into()],
        ))
        .await?;
        return Ok(DocState::Unchanged);
    }
    Ok(DocState::Stage)
}

/// Stages `doc` and its chunks (inactive) for `run`, replacing what an earlier attempt staged.
pub async fn stage(
    db: &DatabaseConnection,
    source: &sources::Model,
    run: Uuid,
    doc: DocInput,
    staged: Vec<StagedChunk>,
    model_id: Option<&str>,
) -> Result<usize> {
    let now = Utc::now();
    let tokens: usize = staged.iter().map(|c| c.tokens).sum();
    let txn = db.begin().await?;
    // Write first: on SQLite a transaction that reads first cannot always upgrade to a writer
    // under concurrency (SQLITE_BUSY at once); a first write waits for the lock instead.
    txn.execute_raw(statement(
        &txn,
        "DELETE FROM chunks WHERE active = false AND document_id IN \
         (SELECT id FROM documents WHERE source_id = {} AND key = {})",
        [source.id.into(), doc.key.clone().into()],
    ))
    .await?;
    let existing = documents::Entity::find()
        .filter(documents::Column::SourceId.eq(source.id))
        .filter(documents::Column::Key.eq(doc.key.clone()))
        .one(&txn)
        .await?;
    let doc_id = match existing {
        Some(d) => {
            let mut m: documents::ActiveModel = d.into();
            m.title = Set(doc.title.clone());
            m.url = Set(doc.url.clone());
            m.partial = Set(doc.partial.clone());
            m.staged_hash = Set(Some(doc.hash.clone()));
            m.seen_run = Set(Some(run));
            m.tokens = Set(tokens as i32);
            m.updated_at = Set(now);
            sea_orm::ActiveModelTrait::update(m, &txn).await?.id
        }
        None => {
            let id = Uuid::new_v4();
            documents::Entity::insert(documents::ActiveModel {
                id: Set(id),
                account_id: Set(source.account_id),
                agent_id: Set(source.agent_id),
                source_id: Set(source.id),
                key: Set(doc.key.clone()),
                title: Set(doc.title.clone()),
                url: Set(doc.url.clone()),
                content_hash: Set(None),
                staged_hash: Set(Some(doc.hash.clone())),
                partial: Set(doc.partial.clone()),
                tokens: Set(tokens as i32),
                seen_run: Set(Some(run)),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
            id
        }
    };
    let count = staged.len();
    let rows: Vec<chunks::ActiveModel> = staged
        .into_iter()
        .enumerate()
        .map(|(i, c)| chunks::ActiveModel {
            id: Set(Uuid::new_v4()),
            account_id: Set(source.account_id),
            agent_id: Set(source.agent_id),
            source_id: Set(source.id),
            document_id: Set(doc_id),
            ordinal: Set(i as i32),
            title: Set(doc.title.clone()),
            url: Set(doc.url.clone()),
            heading_path: Set(json!(c.heading_path)),
            text: Set(c.text),
            tokens: Set(c.tokens as i32),
            embedding: Set(c.embedding.as_deref().map(vector_bytes)),
            embedding_model: Set(c.embedding.as_ref().and(model_id.map(str::to_string))),
            sentence_embeddings: Set(model_id
                .and_then(|m| crate::retrieval::sentences::encode(m, &c.sentence_embeddings))),
            active: Set(false),
            run_id: Set(run),
            created_at: Set(now),
        })
        .collect();
    for batch in rows.chunks(200) {
        chunks::Entity::insert_many(batch.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(count)
}

/// Swaps in what `run` staged and removes the documents it did not see, atomically.
/// Returns the number of active chunks of the source afterwards.
pub async fn finish(db: &DatabaseConnection, source_id: Uuid, run: Uuid) -> Result<u64> {
    const STAGED: &str = "SELECT id FROM documents WHERE source_id = {} AND seen_run = {} AND staged_hash IS NOT NULL";
    const GONE: &str =
        "SELECT id FROM documents WHERE source_id = {} AND (seen_run IS NULL OR seen_run <> {})";
    let txn = db.begin().await?;
    let s = || -> [sea_orm::Value; 2] { [source_id.into(), run.into()] };
    txn.execute_raw(statement(
        &txn,
        &format!("DELETE FROM chunks WHERE active = true AND document_id IN ({STAGED})"),
        s(),
    ))
    .await?;
    txn.execute_raw(statement(
        &txn,
        &format!("UPDATE chunks SET active = true WHERE active = false AND run_id = {{}} AND document_id IN ({STAGED})"),
        [run.into(), source_id.into(), run.into()],
    ))
    .await?;
    txn.execute_raw(statement(
        &txn,
        "UPDATE documents SET content_hash = staged_hash, staged_hash = NULL \
         WHERE source_id = {} AND seen_run = {} AND staged_hash IS NOT NULL",
        s(),
    ))
    .await?;
    txn.execute_raw(statement(
        &txn,
        &format!("DELETE FROM chunks WHERE document_id IN ({GONE})"),
        s(),
    ))
    .await?;
    txn.execute_raw(statement(
        &txn,
        "DELETE FROM documents WHERE source_id = {} AND (seen_run IS NULL OR seen_run <> {})",
        s(),
    ))
    .await?;
    let active = chunks::Entity::find()
        .filter(chunks::Column::SourceId.eq(source_id))
        .filter(chunks::Column::Active.eq(true));
    let n = sea_orm::PaginatorTrait::count(active, &txn).await?;
    bump_knowledge_version(&txn, source_id).await?;
    txn.commit().await?;
    Ok(n)
}

/// Takes every chunk of the source out of search at once (the source was deleted).
pub async fn deactivate_source<C: ConnectionTrait>(conn: &C, source_id: Uuid) -> Result<()> {
    conn.execute_raw(statement(
        conn,
        "UPDATE chunks SET active = false WHERE source_id = {} AND active = true",
        [source_id.into()],
    ))
    .await?;
    bump_knowledge_version(conn, source_id).await
}

/// Tells search indexes that the agent of `source_id` has different searchable chunks now
/// (also used by live single-document updates).
pub(crate) async fn bump_knowledge_version<C: ConnectionTrait>(
    conn: &C,
    source_id: Uuid,
) -> Result<()> {
    conn.execute_raw(statement(
        conn,
        "UPDATE agents SET knowledge_version = knowledge_version + 1 \
         WHERE id = (SELECT agent_id FROM sources WHERE id = {})",
        [source_id.into()],
    ))
    .await?;
    Ok(())
}

/// Deletes a source and everything derived from it. Idempotent.
pub async fn purge_source(db: &DatabaseConnection, source_id: Uuid) -> Result<()> {
    let txn = db.begin().await?;
    chunks::Entity::delete_many()
        .filter(chunks::Column::SourceId.eq(source_id))
        .exec(&txn)
        .await?;
    documents::Entity::delete_many()
        .filter(documents::Column::SourceId.eq(source_id))
        .exec(&txn)
        .await?;
    source_files::Entity::delete_many()
        .filter(source_files::Column::SourceId.eq(source_id))
        .exec(&txn)
        .await?;
    document_failures::Entity::delete_many()
        .filter(document_failures::Column::SourceId.eq(source_id))
        .exec(&txn)
        .await?;
    sources::Entity::delete_many()
        .filter(sources::Column::Id.eq(source_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes every source of an agent and everything derived from them.
pub async fn purge_agent(db: &DatabaseConnection, agent_id: Uuid) -> Result<()> {
    let txn = db.begin().await?;
    chunks::Entity::delete_many()
        .filter(chunks::Column::AgentId.eq(agent_id))
        .exec(&txn)
        .await?;
    documents::Entity::delete_many()
        .filter(documents::Column::AgentId.eq(agent_id))
        .exec(&txn)
        .await?;
    txn.execute_raw(statement(
        &txn,
        "DELETE FROM source_files WHERE source_id IN (SELECT id FROM sources WHERE agent_id = {})",
        [agent_id.into()],
    ))
    .await?;
    txn.execute_raw(statement(
        &txn,
        "DELETE FROM document_failures WHERE source_id IN (SELECT id FROM sources WHERE agent_id = {})",
        [agent_id.into()],
    ))
    .await?;
    sources::Entity::delete_many()
        .filter(sources::Column::AgentId.eq(agent_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Section;

    #[test]
    fn hash_changes_with_any_part() {
        let doc = |title: &str, head: &str, text: &str| ExtractedDoc {
            title: title.into(),
            sections: vec![Section {
                heading_path: vec![head.into()],
                text: text.into(),
            }],
            partial: None,
        };
        let a = content_hash(&doc("T", "H", "x"));
        assert_eq!(a, content_hash(&doc("T", "H", "x")));
        assert_ne!(a, content_hash(&doc("T2", "H", "x")));
        assert_ne!(a, content_hash(&doc("T", "H2", "x")));
        assert_ne!(a, content_hash(&doc("T", "H", "y")));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn vectors_round_trip() {
        let v = vec![0.5f32, -1.25, 3.0e-7];
        assert_eq!(bytes_vector(&vector_bytes(&v)), v);
    }
}

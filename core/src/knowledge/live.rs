//! Live changes of one document between syncs (a product changed in a shop): swap in what was
//! just staged for it, or remove it, without touching the source's other documents.

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::store::bump_knowledge_version;
use crate::db::{begin_write, statement};
use crate::error::Result;
use otoq_entities::{chunks, documents};

/// Makes what `run` staged for document `key` the active content (if it staged anything:
/// an unchanged document is left as it is), then marks the document as seen by `seen_run` —
/// the source's current sync run — so that run does not take it for a vanished one.
/// Returns the source's number of active chunks.
pub async fn activate_document(
    db: &DatabaseConnection,
    source_id: Uuid,
    key: &str,
    run: Uuid,
    seen_run: Option<Uuid>,
) -> Result<u64> {
    let txn = begin_write(db).await?;
    let doc = documents::Entity::find()
        .filter(documents::Column::SourceId.eq(source_id))
        .filter(documents::Column::Key.eq(key))
        .one(&txn)
        .await?;
    if let Some(doc) = doc {
        if doc.seen_run == Some(run) && doc.staged_hash.is_some() {
            txn.execute_raw(statement(
                &txn,
                "DELETE FROM chunks WHERE document_id = {} AND active = true",
                [doc.id.into()],
            ))
            .await?;
            txn.execute_raw(statement(
                &txn,
                "UPDATE chunks SET active = true WHERE document_id = {} AND run_id = {} AND active = false",
                [doc.id.into(), run.into()],
            ))
            .await?;
            txn.execute_raw(statement(
                &txn,
                "UPDATE documents SET content_hash = staged_hash, staged_hash = NULL WHERE id = {}",
                [doc.id.into()],
            ))
            .await?;
            bump_knowledge_version(&txn, source_id).await?;
        }
        txn.execute_raw(statement(
            &txn,
            "UPDATE documents SET seen_run = {} WHERE id = {}",
            [seen_run.into(), doc.id.into()],
        ))
        .await?;
    }
    let n = active_chunks(&txn, source_id).await?;
    txn.commit().await?;
    Ok(n)
}

/// Removes document `key` of the source and its chunks; returns the source's active chunks.
pub async fn remove_document(db: &DatabaseConnection, source_id: Uuid, key: &str) -> Result<u64> {
    let txn = begin_write(db).await?;
    let removed = txn
        .execute_raw(statement(
            &txn,
            "DELETE FROM chunks WHERE document_id IN \
             (SELECT id FROM documents WHERE source_id = {} AND key = {})",
            [source_id.into(), key.into()],
        ))
        .await?;
    let docs = txn
        .execute_raw(statement(
            &txn,
            "DELETE FROM documents WHERE source_id = {} AND key = {}",
            [source_id.into(), key.into()],
        ))
        .await?;
    if removed.rows_affected() > 0 || docs.rows_affected() > 0 {
        bump_knowledge_version(&txn, source_id).await?;
    }
    let n = active_chunks(&txn, source_id).await?;
    txn.commit().await?;
    Ok(n)
}

async fn active_chunks<C: ConnectionTrait>(conn: &C, source_id: Uuid) -> Result<u64> {
    let q = chunks::Entity::find()
        .filter(chunks::Column::SourceId.eq(source_id))
        .filter(chunks::Column::Active.eq(true));
    Ok(sea_orm::PaginatorTrait::count(q, conn).await?)
}

/// Marks document `key` as seen by `run` without reading it again (its source says it did not
/// change), dropping anything an earlier attempt staged for it. False when the source has no
/// active content for that key (it must be read).
pub async fn mark_seen(
    db: &DatabaseConnection,
    source_id: Uuid,
    key: &str,
    run: Uuid,
) -> Result<bool> {
    let txn = begin_write(db).await?;
    txn.execute_raw(statement(
        &txn,
        "DELETE FROM chunks WHERE active = false AND document_id IN \
         (SELECT id FROM documents WHERE source_id = {} AND key = {} AND content_hash IS NOT NULL)",
        [source_id.into(), key.into()],
    ))
    .await?;
    let res = txn
        .execute_raw(statement(
            &txn,
            "UPDATE documents SET seen_run = {}, staged_hash = NULL \
             WHERE source_id = {} AND key = {} AND content_hash IS NOT NULL",
            [run.into(), source_id.into(), key.into()],
        ))
        .await?;
    txn.commit().await?;
    Ok(res.rows_affected() == 1)
}

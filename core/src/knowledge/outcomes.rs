//! What became of each page or file of a source: the documents indexed, and those the last
//! sync could not read or left out, with the reason (`GET /sources/{id}/documents`).

use chrono::{DateTime, Utc};
use otoq_entities::enums::DocumentStatus;
use otoq_entities::{document_failures, documents, sources};
use sea_orm::sea_query::{ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::error::Result;

/// Reasons recorded at most per sync run (a site with many skipped links stays bounded).
pub const MAX_RECORDED: usize = 5_000;

/// A page or file not indexed by a run.
pub struct NotIndexed {
    pub key: String,
    pub url: Option<String>,
    /// `Failed` or `Skipped`.
    pub status: DocumentStatus,
    pub reason: String,
}

/// Records (or replaces) why `item` was not indexed by `run`.
pub async fn record(
    db: &DatabaseConnection,
    source: &sources::Model,
    run: Uuid,
    item: NotIndexed,
) -> Result<()> {
    document_failures::Entity::insert(document_failures::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(source.account_id),
        source_id: Set(source.id),
        key: Set(item.key),
        url: Set(item.url),
        status: Set(item.status),
        reason: Set(item.reason),
        run_id: Set(run),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            document_failures::Column::SourceId,
            document_failures::Column::Key,
        ])
        .update_columns([
            document_failures::Column::Url,
            document_failures::Column::Status,
            document_failures::Column::Reason,
            document_failures::Column::RunId,
            document_failures::Column::CreatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Forgets what earlier runs recorded, and the failures of pages `run` did index after all.
pub async fn keep_only_run(db: &DatabaseConnection, source_id: Uuid, run: Uuid) -> Result<()> {
    document_failures::Entity::delete_many()
        .filter(document_failures::Column::SourceId.eq(source_id))
        .filter(document_failures::Column::RunId.ne(run))
        .exec(db)
        .await?;
    let indexed = documents::Entity::find()
        .select_only()
        .column(documents::Column::Key)
        .filter(documents::Column::SourceId.eq(source_id))
        .filter(documents::Column::SeenRun.eq(run));
    document_failures::Entity::delete_many()
        .filter(document_failures::Column::SourceId.eq(source_id))
        .filter(
            document_failures::Column::Key.in_subquery(sea_orm::QueryTrait::into_query(indexed)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// One page or file of a source, as listed.
pub struct Item {
    pub key: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub status: DocumentStatus,
    pub reason: Option<String>,
    pub tokens: i32,
    pub updated_at: DateTime<Utc>,
}

/// The documents of `source_id` (indexed first, by key), then those not indexed; one page of
/// them and the total. The caller checked that the source is the account's.
pub async fn list(
    db: &DatabaseConnection,
    account_id: Uuid,
    source_id: Uuid,
    limit: u64,
    offset: u64,
) -> Result<(Vec<Item>, u64)> {
    let docs = documents::Entity::find()
        .filter(documents::Column::AccountId.eq(account_id))
        .filter(documents::Column::SourceId.eq(source_id))
        .filter(
            documents::Column::ContentHash
                .is_not_null()
                .or(documents::Column::StagedHash.is_not_null()),
        );
    let failures = document_failures::Entity::find()
        .filter(document_failures::Column::AccountId.eq(account_id))
        .filter(document_failures::Column::SourceId.eq(source_id));
    let (n_docs, n_failures) = (
        docs.clone().count(db).await?,
        failures.clone().count(db).await?,
    );
    let mut items: Vec<Item> = Vec::new();
    if offset < n_docs {
        let rows = docs
            .order_by_asc(documents::Column::Key)
            .offset(offset)
            .limit(limit)
            .all(db)
            .await?;
        items.extend(rows.into_iter().map(|d| Item {
            status: match (&d.content_hash, &d.partial) {
                (None, _) => DocumentStatus::Processing,
                (Some(_), Some(_)) => DocumentStatus::Partial,
                (Some(_), None) => DocumentStatus::Indexed,
            },
            reason: d.partial,
            key: d.key,
            title: Some(d.title),
            url: d.url,
            tokens: d.tokens,
            updated_at: d.updated_at,
        }));
    }
    let room = limit.saturating_sub(items.len() as u64);
    if room > 0 {
        let skip = offset.saturating_sub(n_docs);
        let rows = failures
            .order_by_asc(document_failures::Column::Key)
            .offset(skip)
            .limit(room)
            .all(db)
            .await?;
        items.extend(rows.into_iter().map(|f| Item {
            key: f.key,
            title: None,
            url: f.url,
            status: f.status,
            reason: Some(f.reason),
            tokens: 0,
            updated_at: f.created_at,
        }));
    }
    Ok((items, n_docs + n_failures))
}

//! Knowledge sources: validation and tenant-scoped create, read, re-sync and delete.
//!
//! Creating or re-syncing a source writes the row and its [`Job::SyncSource`] in one
//! transaction and answers at once; the worker does the work and reports progress on the row.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::Context;
use crate::error::{Error, Result};
use crate::jobs::Job;
use crate::plans::Plan;
use crate::queue::Queue;
use otoq_entities::enums::{SourceKind, SourceStatus};
use otoq_entities::{agents, source_files, sources};

/// Crawl defaults.
pub const DEFAULT_MAX_PAGES: u32 = 500;
pub const DEFAULT_MAX_DEPTH: u32 = 5;
const MAX_DEPTH: u32 = 20;
const MAX_QA_PAIRS: usize = 1_000;

/// How often a source is synced again by itself.
pub use otoq_entities::enums::Refresh;

/// One question and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaPair {
    pub question: String,
    pub answer: String,
}

/// Crawl settings of a `url` source, stored in its config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlSettings {
    pub max_pages: u32,
    pub max_depth: u32,
}

/// A source to create.
#[derive(Clone, Debug)]
pub enum NewSource {
    Url {
        url: String,
        name: Option<String>,
        max_pages: Option<u32>,
        max_depth: Option<u32>,
        refresh: Refresh,
    },
    Text {
        title: String,
        content: String,
    },
    Qa {
        title: Option<String>,
        pairs: Vec<QaPair>,
    },
    File {
        filename: String,
        content_type: Option<String>,
        bytes: Vec<u8>,
        name: Option<String>,
        refresh: Refresh,
    },
}

fn required_text(field: &str, v: &str, max: usize) -> Result<String> {
    let t = v.trim();
    match crate::text::check(t, max, false) {
        Ok(()) => Ok(t.to_string()),
        Err(crate::text::TextProblem::Nul) => Err(Error::validation(
            field,
            format!("`{field}` must not contain NUL characters"),
        )),
        Err(_) => Err(Error::validation(
            field,
            format!("`{field}` must be 1 to {max} characters"),
        )),
    }
}

/// Queues the sync `run_id` of source `id` in `txn`, commits it and wakes a worker.
async fn sync_and_commit(
    ctx: &Context,
    txn: sea_orm::DatabaseTransaction,
    account_id: Uuid,
    id: Uuid,
    run_id: Uuid,
) -> Result<()> {
    Queue::enqueue_in(
        &txn,
        &Job::SyncSource {
            account_id,
            source_id: id,
            run_id,
        },
    )
    .await?;
    txn.commit().await?;
    ctx.queue.notify().await;
    Ok(())
}

/// Checks a website address: absolute http(s), with a host, no credentials.
pub fn validate_url(raw: &str) -> Result<url::Url> {
    let bad = |why: &str| Error::validation("url", format!("`url` {why}"));
    let url = url::Url::parse(raw.trim())
        .map_err(|_| bad("must be an absolute address like https://example.com"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must include a host name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not include a user name or password"));
    }
    Ok(url)
}

fn agent_of(account_id: Uuid, agent_id: Uuid) -> sea_orm::Select<agents::Entity> {
    agents::Entity::find()
        .filter(agents::Column::Id.eq(agent_id))
        .filter(agents::Column::AccountId.eq(account_id))
        .filter(agents::Column::DeletedAt.is_null())
}

fn visible(account_id: Uuid) -> sea_orm::Select<sources::Entity> {
    sources::Entity::find()
        .filter(sources::Column::AccountId.eq(account_id))
        .filter(sources::Column::DeletedAt.is_null())
}

/// Validates `new`, stores it and enqueues its first sync.
pub async fn create(
    ctx: &Context,
    account_id: Uuid,
    plan: Plan,
    agent_id: Uuid,
    new: NewSource,
) -> Result<sources::Model> {
    if agent_of(account_id, agent_id).one(&ctx.db).await?.is_none() {
        return Err(Error::NotFound("agent"));
    }
    let now = Utc::now();
    let id = Uuid::new_v4();
    let run_id = Uuid::new_v4();
    let mut file = None;
    let (kind, name, url, config, refresh) = match new {
        NewSource::Url {
            url,
            name,
            max_pages,
            max_depth,
            refresh,
        } => {
            let url = validate_url(&url)?;
            // Refuse private targets now; the crawler checks every request again after resolution.
            let guard = crate::net_guard::Guard {
                allow_private: ctx.config.allow_private_networks,
            };
            guard
                .check_url(&url)
                .await
                .map_err(|e| Error::validation("url", format!("`url` is not allowed: {e}")))?;
            // Capped by the plan: a larger request crawls as much as the plan allows.
            let cap = plan.max_crawl_pages();
            let max_pages = max_pages.unwrap_or(DEFAULT_MAX_PAGES).min(cap);
            if max_pages == 0 {
                return Err(Error::validation(
                    "max_pages",
                    "`max_pages` must be at least 1",
                ));
            }
            let max_depth = max_depth.unwrap_or(DEFAULT_MAX_DEPTH);
            if max_depth > MAX_DEPTH {
                return Err(Error::validation(
                    "max_depth",
                    format!("`max_depth` must be at most {MAX_DEPTH}"),
                ));
            }
            let name = match name {
                Some(n) => required_text("name", &n, 200)?,
                None => url.host_str().unwrap_or_default().to_string(),
            };
            let settings = CrawlSettings {
                max_pages,
                max_depth,
            };
            (
                SourceKind::Url,
                name,
                Some(url.to_string()),
                json!(settings),
                refresh,
            )
        }
        NewSource::Text { title, content } => {
            let title = required_text("title", &title, 200)?;
            let content = required_text("content", &content, 500_000)?;
            (
                SourceKind::Text,
                title,
                None,
                json!({ "content": content }),
                Refresh::Off,
            )
        }
        NewSource::Qa { title, pairs } => {
            if pairs.is_empty() || pairs.len() > MAX_QA_PAIRS {
                return Err(Error::validation(
                    "pairs",
                    format!("`pairs` must hold 1 to {MAX_QA_PAIRS} question and answer pairs"),
                ));
            }
            let mut clean = Vec::with_capacity(pairs.len());
            for (i, p) in pairs.iter().enumerate() {
                clean.push(QaPair {
                    question: required_text(&format!("pairs[{i}].question"), &p.question, 1_000)?,
                    answer: required_text(&format!("pairs[{i}].answer"), &p.answer, 10_000)?,
                });
            }
            let title = match title {
                Some(t) => required_text("title", &t, 200)?,
                None => "Q&A".to_string(),
            };
            (
                SourceKind::Qa,
                title,
                None,
                json!({ "pairs": clean }),
                Refresh::Off,
            )
        }
        NewSource::File {
            filename,
            content_type,
            bytes,
            name,
            refresh,
        } => {
            let filename = required_text("file", &filename, 255)?;
            let name = match name {
                Some(n) => required_text("name", &n, 200)?,
                None => filename.clone(),
            };
            file = Some(source_files::ActiveModel {
                source_id: Set(id),
                filename: Set(filename.clone()),
                content_type: Set(content_type),
                size: Set(bytes.len() as i64),
                bytes: Set(bytes),
            });
            (
                SourceKind::File,
                name,
                None,
                json!({ "filename": filename }),
                refresh,
            )
        }
    };
    let model = queued_row(
        [id, account_id, agent_id, run_id],
        kind,
        name,
        url,
        config,
        refresh,
        now,
    );
    let txn = ctx.db.begin().await?;
    let source = sources::Entity::insert(model)
        .exec_with_returning(&txn)
        .await?;
    if let Some(f) = file {
        source_files::Entity::insert(f)
            .exec_without_returning(&txn)
            .await?;
    }
    sync_and_commit(ctx, txn, account_id, id, run_id).await?;
    Ok(source)
}

/// A new source row `[id, account_id, agent_id, run_id]`, queued for its first sync.
pub fn queued_row(
    [id, account_id, agent_id, run_id]: [Uuid; 4],
    kind: SourceKind,
    name: String,
    url: Option<String>,
    config: serde_json::Value,
    refresh: Refresh,
    now: chrono::DateTime<chrono::Utc>,
) -> sources::ActiveModel {
    sources::ActiveModel {
        id: Set(id),
        account_id: Set(account_id),
        agent_id: Set(agent_id),
        kind: Set(kind),
        name: Set(name),
        url: Set(url),
        config: Set(config),
        status: Set(SourceStatus::Queued),
        error: Set(None),
        pages_found: Set(0),
        pages_done: Set(0),
        pages_failed: Set(0),
        chunks: Set(0),
        refresh: Set(refresh),
        next_sync_at: Set(None),
        last_synced_at: Set(None),
        run_id: Set(Some(run_id)),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
}

/// The agent's sources, newest first, with the total.
pub async fn list(
    ctx: &Context,
    account_id: Uuid,
    agent_id: Uuid,
    limit: u64,
    offset: u64,
) -> Result<(Vec<sources::Model>, u64)> {
    if agent_of(account_id, agent_id).one(&ctx.db).await?.is_none() {
        return Err(Error::NotFound("agent"));
    }
    let q = visible(account_id).filter(sources::Column::AgentId.eq(agent_id));
    let total = q.clone().count(&ctx.db).await?;
    let rows = q
        .order_by_desc(sources::Column::CreatedAt)
        .order_by_desc(sources::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(&ctx.db)
        .await?;
    Ok((rows, total))
}

/// One source of the account.
pub async fn get(db: &DatabaseConnection, account_id: Uuid, id: Uuid) -> Result<sources::Model> {
    visible(account_id)
        .filter(sources::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("source"))
}

/// Starts a new sync run of the source; the previous content keeps answering until it ends.
pub async fn resync(ctx: &Context, account_id: Uuid, id: Uuid) -> Result<sources::Model> {
    get(&ctx.db, account_id, id).await?;
    let run_id = Uuid::new_v4();
    let txn = ctx.db.begin().await?;
    sources::Entity::update_many()
        .col_expr(
            sources::Column::Status,
            sea_orm::sea_query::Expr::value(SourceStatus::Queued),
        )
        .col_expr(
            sources::Column::RunId,
            sea_orm::sea_query::Expr::value(run_id),
        )
        .col_expr(
            sources::Column::Error,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .col_expr(
            sources::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sources::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    sync_and_commit(ctx, txn, account_id, id, run_id).await?;
    get(&ctx.db, account_id, id).await
}

/// Marks the source deleted (its content stops answering at once) and enqueues its purge.
pub async fn delete(ctx: &Context, account_id: Uuid, id: Uuid) -> Result<()> {
    let txn = ctx.db.begin().await?;
    let res = sources::Entity::update_many()
        .col_expr(
            sources::Column::DeletedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(sources::Column::Id.eq(id))
        .filter(sources::Column::AccountId.eq(account_id))
        .filter(sources::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("source"));
    }
    crate::knowledge::store::deactivate_source(&txn, id).await?;
    Queue::enqueue_in(
        &txn,
        &Job::PurgeSource {
            account_id,
            source_id: id,
        },
    )
    .await?;
    txn.commit().await?;
    ctx.queue.notify().await;
    Ok(())
}

/// Starts the syncs of sources whose scheduled refresh is due; safe to run from every worker
/// at once (each source is claimed by a conditional update). Returns how many were started.
pub async fn enqueue_due_refreshes(ctx: &Context) -> Result<usize> {
    let now = Utc::now();
    let due = sources::Entity::find()
        .filter(sources::Column::DeletedAt.is_null())
        .filter(sources::Column::NextSyncAt.lte(now))
        .filter(sources::Column::Refresh.ne(Refresh::Off))
        .limit(100)
        .all(&ctx.db)
        .await?;
    let mut started = 0;
    for source in due {
        let run_id = Uuid::new_v4();
        let txn = ctx.db.begin().await?;
        let claimed = sources::Entity::update_many()
            .col_expr(
                sources::Column::NextSyncAt,
                sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                sources::Column::RunId,
                sea_orm::sea_query::Expr::value(run_id),
            )
            .col_expr(
                sources::Column::Status,
                sea_orm::sea_query::Expr::value(SourceStatus::Queued),
            )
            .filter(sources::Column::Id.eq(source.id))
            .filter(sources::Column::NextSyncAt.eq(source.next_sync_at))
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            let job = Job::SyncSource {
                account_id: source.account_id,
                source_id: source.id,
                run_id,
            };
            Queue::enqueue_in(&txn, &job).await?;
            started += 1;
        }
        txn.commit().await?;
    }
    if started > 0 {
        ctx.queue.notify().await;
    }
    Ok(started)
}

/// Sets a source's progress counters and status fields.
pub async fn record(db: &DatabaseConnection, id: Uuid, change: sources::ActiveModel) -> Result<()> {
    let mut change = change;
    change.id = Set(id);
    change.updated_at = Set(Utc::now());
    change.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn urls_are_checked() {
        assert!(validate_url("https://example.com/docs").is_ok());
        for bad in [
            "example.com",
            "ftp://x.io",
            "https://user:pw@x.io",
            "javascript:alert(1)",
            "",
        ] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refresh_schedule() {
        let now = Utc::now();
        assert_eq!(Refresh::Off.next_after(now), None);
        assert_eq!(
            Refresh::Daily.next_after(now),
            Some(now + Duration::days(1))
        );
        assert!("hourly".parse::<Refresh>().is_err());
    }
}

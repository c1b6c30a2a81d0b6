//! Conversations: listing, reading, handoff to a human, and the monthly conversation budget.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::Context;
use crate::answer::language::{Lang, templates};
use crate::db::statement;
use crate::error::{Error, Result};
use crate::jobs::Job;
use crate::plans::Plan;
use crate::queue::Queue;
use otoq_entities::enums::{ConversationStatus, Role};
use otoq_entities::{conversations, messages};

/// Filters of a conversation listing.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub agent_id: Option<Uuid>,
    pub status: Option<ConversationStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The account's conversations matching `filter`, newest first, with the total.
pub async fn list(
    db: &DatabaseConnection,
    account_id: Uuid,
    filter: &Filter,
    limit: u64,
    offset: u64,
) -> Result<(Vec<conversations::Model>, u64)> {
    let mut q =
        conversations::Entity::find().filter(conversations::Column::AccountId.eq(account_id));
    if let Some(a) = filter.agent_id {
        q = q.filter(conversations::Column::AgentId.eq(a));
    }
    if let Some(s) = &filter.status {
        q = q.filter(conversations::Column::Status.eq(*s));
    }
    if let Some(f) = filter.from {
        q = q.filter(conversations::Column::CreatedAt.gte(f));
    }
    if let Some(t) = filter.to {
        q = q.filter(conversations::Column::CreatedAt.lt(t));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(conversations::Column::CreatedAt)
        .order_by_desc(conversations::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// One conversation of the account.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    account_id: Uuid,
    id: Uuid,
) -> Result<conversations::Model> {
    conversations::Entity::find_by_id(id)
        .filter(conversations::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("conversation"))
}

/// The conversation's messages in order.
pub async fn messages<C: ConnectionTrait>(
    db: &C,
    conversation_id: Uuid,
) -> Result<Vec<messages::Model>> {
    Ok(messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation_id))
        .order_by_asc(messages::Column::Seq)
        .all(db)
        .await?)
}

/// The last `n` messages of the conversation, in order.
pub async fn recent_messages<C: ConnectionTrait>(
    db: &C,
    conversation_id: Uuid,
    n: u64,
) -> Result<Vec<messages::Model>> {
    let mut rows = messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation_id))
        .order_by_desc(messages::Column::Seq)
        .limit(n)
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}

/// The month a conversation counts toward, e.g. `2026-11`.
pub fn period(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// Counts a new conversation toward the account's month, refusing it past the plan's limit.
/// Atomic: concurrent conversations cannot overshoot the limit.
pub async fn count_new_conversation<C: ConnectionTrait>(
    conn: &C,
    account_id: Uuid,
    plan: Plan,
) -> Result<()> {
    let limit = plan.monthly_conversations().map_or(i64::MAX, |l| l as i64);
    let res = conn
        .execute_raw(statement(
            conn,
            "INSERT INTO usage_counters (account_id, period, conversations) VALUES ({}, {}, 1) \
             ON CONFLICT (account_id, period) DO UPDATE SET conversations = usage_counters.conversations + 1 \
             WHERE usage_counters.conversations < {}",
            [account_id.into(), period(Utc::now()).into(), limit.into()],
        ))
        .await?;
    if res.rows_affected() == 0 {
        let limit = plan.monthly_conversations().unwrap_or(0);
        return Err(Error::PlanLimit(format!(
            "The {} plan's {limit} conversations for this month are used up; existing conversations \
             continue. Upgrade the plan or wait for next month.",
            plan.as_str()
        )));
    }
    Ok(())
}

/// Conversations counted this month for the account.
pub async fn used_this_month(db: &DatabaseConnection, account_id: Uuid) -> Result<i64> {
    let row = db
        .query_one_raw(statement(
            db,
            "SELECT conversations FROM usage_counters WHERE account_id = {} AND period = {}",
            [account_id.into(), period(Utc::now()).into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// Marks the conversation as waiting for a person, tells the visitor, and queues the owner's
/// email — in one transaction. Asking again changes nothing.
pub async fn request_handoff(
    ctx: &Context,
    account_id: Uuid,
    id: Uuid,
) -> Result<conversations::Model> {
    let txn = ctx.db.begin().await?;
    // Write first: SQLite transactions must start with a write to serialise.
    txn.execute_raw(statement(
        &txn,
        "UPDATE conversations SET updated_at = updated_at WHERE id = {} AND account_id = {}",
        [id.into(), account_id.into()],
    ))
    .await?;
    let conv = get(&txn, account_id, id).await?;
    if conv.status == ConversationStatus::HandoffRequested {
        txn.commit().await?;
        return Ok(conv);
    }
    let lang = conv
        .language
        .as_deref()
        .and_then(Lang::from_setting)
        .unwrap_or(Lang::En);
    let now = Utc::now();
    let notice = messages::ActiveModel {
        id: Set(Uuid::new_v4()),
        conversation_id: Set(conv.id),
        account_id: Set(account_id),
        agent_id: Set(conv.agent_id),
        seq: Set(conv.message_count),
        role: Set(Role::System),
        content: Set(templates(lang).handoff_confirmed.into()),
        sources: Set(serde_json::json!([])),
        answered: Set(None),
        handoff_offered: Set(false),
        gap_key: Set(None),
        created_at: Set(now),
    };
    messages::Entity::insert(notice).exec(&txn).await?;
    let updated = mark_handoff(&txn, &conv, 1, now).await?;
    Queue::enqueue_in(
        &txn,
        &Job::HandoffEmail {
            account_id,
            conversation_id: conv.id,
        },
    )
    .await?;
    txn.commit().await?;
    ctx.queue.notify().await;
    Ok(updated)
}

/// Sets the handoff status on `conv` inside a transaction, counting `added` new messages.
pub async fn mark_handoff<C: ConnectionTrait>(
    conn: &C,
    conv: &conversations::Model,
    added: i32,
    now: DateTime<Utc>,
) -> Result<conversations::Model> {
    let mut m: conversations::ActiveModel = conv.clone().into();
    m.status = Set(ConversationStatus::HandoffRequested);
    m.handoff_requested_at = Set(Some(now));
    m.message_count = Set(conv.message_count + added);
    m.updated_at = Set(now);
    m.last_message_at = Set(now);
    Ok(sea_orm::ActiveModelTrait::update(m, conn).await?)
}

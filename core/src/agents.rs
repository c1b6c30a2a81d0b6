//! Agents: validation and tenant-scoped create, read, update and delete.
//!
//! Deleting marks the agent deleted (it disappears from the API at once) and enqueues a
//! [`Job::PurgeAgent`] in the same transaction; the worker removes what belongs to it.

use chrono::Utc;
use regex::Regex;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::json;
use std::sync::{Arc, LazyLock};
use uuid::Uuid;

use crate::Context;
use crate::error::{Error, Result};
use crate::jobs::Job;
use crate::queue::Queue;
use crate::secrets::random_base62;
use otoq_entities::agents;
use otoq_entities::enums::{LeadFormTrigger, Personality};

/// Default launcher colour.
pub const DEFAULT_COLOR: &str = "#6366f1";
const MAX_ORIGINS: usize = 50;

static COLOR: LazyLock<Regex> = LazyLock::new(|| Regex::new("^#[0-9a-fA-F]{6}$").unwrap());
static LANGUAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$").unwrap());

/// A change to an optional field: leave it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// Fields of a new agent; `None` takes the default.
#[derive(Clone, Debug, Default)]
pub struct NewAgent {
    pub name: String,
    pub personality: Option<Personality>,
    pub system_prompt: Option<String>,
    pub language: Option<String>,
    pub welcome_message: Option<String>,
    pub primary_color: Option<String>,
    pub is_active: Option<bool>,
    pub allowed_origins: Option<Vec<String>>,
    pub widget: WidgetSettings,
}

/// The widget's settings of an agent; `None` keeps the current value (or takes the default).
#[derive(Clone, Debug, Default)]
pub struct WidgetSettings {
    /// Lead-form fields, a subset of [`LEAD_FIELDS`].
    pub lead_form_fields: Option<Vec<String>>,
    pub lead_form_trigger: Option<LeadFormTrigger>,
    /// Visitor messages before the form shows (1–50).
    pub lead_form_after_messages: Option<i32>,
    /// Widget messages answered per day (1–1,000,000).
    pub daily_message_cap: Option<i32>,
}

/// Fields the widget's lead form can show, in display order.
pub const LEAD_FIELDS: [&str; 4] = ["name", "email", "phone", "company"];

impl WidgetSettings {
    /// Validates and writes the settings that are set into `m`.
    fn apply(self, m: &mut agents::ActiveModel) -> Result<()> {
        if let Some(fields) = self.lead_form_fields {
            m.lead_form_fields = Set(lead_fields(&fields)?);
        }
        if let Some(t) = self.lead_form_trigger {
            m.lead_form_trigger = Set(t);
        }
        if let Some(n) = self.lead_form_after_messages {
            if !(1..=50).contains(&n) {
                return Err(Error::validation(
                    "lead_form_after_messages",
                    "`lead_form_after_messages` must be 1 to 50",
                ));
            }
            m.lead_form_after_messages = Set(n);
        }
        if let Some(n) = self.daily_message_cap {
            if !(1..=1_000_000).contains(&n) {
                return Err(Error::validation(
                    "daily_message_cap",
                    "`daily_message_cap` must be 1 to 1000000",
                ));
            }
            m.daily_message_cap = Set(n);
        }
        Ok(())
    }
}

/// Checks lead-form fields and stores them comma-separated in display order (with `email` when
/// neither `email` nor `phone` was chosen).
fn lead_fields(fields: &[String]) -> Result<String> {
    for f in fields {
        if !LEAD_FIELDS.contains(&f.as_str()) {
            return Err(Error::validation(
                "lead_form_fields",
                format!(
                    "`lead_form_fields` entry {f:?} must be one of name, email, phone, company"
                ),
            ));
        }
    }
    // A lead needs an email or a phone: a form with neither asks for the email too.
    let reachable = fields.iter().any(|f| f == "email" || f == "phone");
    let picked: Vec<&str> = LEAD_FIELDS
        .into_iter()
        .filter(|f| {
            fields.iter().any(|x| x == f) || (!fields.is_empty() && !reachable && *f == "email")
        })
        .collect();
    Ok(picked.join(","))
}

/// The lead-form fields stored on an agent, in display order.
pub fn lead_form_fields(agent: &agents::Model) -> Vec<String> {
    agent
        .lead_form_fields
        .split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

/// A partial update of an agent.
#[derive(Clone, Debug, Default)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub personality: Option<Personality>,
    pub system_prompt: Patch<String>,
    pub language: Patch<String>,
    pub welcome_message: Patch<String>,
    pub primary_color: Option<String>,
    pub is_active: Option<bool>,
    pub allowed_origins: Option<Vec<String>>,
    pub widget: WidgetSettings,
}

fn name(v: &str) -> Result<String> {
    let v = v.trim();
    let n = v.chars().count();
    if !(1..=100).contains(&n) {
        return Err(Error::validation(
            "name",
            "`name` must be 1 to 100 characters",
        ));
    }
    Ok(v.to_string())
}

fn text(field: &str, v: &str, max: usize) -> Result<Option<String>> {
    if v.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("`{field}` must be at most {max} characters"),
        ));
    }
    let v = v.trim();
    Ok((!v.is_empty()).then(|| v.to_string()))
}

fn language(v: &str) -> Result<Option<String>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() > 35 || !LANGUAGE.is_match(v) {
        return Err(Error::validation(
            "language",
            "`language` must be a language tag such as en, fr or pt-BR",
        ));
    }
    Ok(Some(v.to_string()))
}

fn color(v: &str) -> Result<String> {
    if COLOR.is_match(v) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(Error::validation(
            "primary_color",
            "`primary_color` must be a hex colour like #6366f1",
        ))
    }
}

/// Normalises `scheme://host[:port]` origins; anything with a path, query or other scheme is refused.
pub fn origins(list: &[String]) -> Result<Vec<String>> {
    if list.len() > MAX_ORIGINS {
        return Err(Error::validation(
            "allowed_origins",
            format!("`allowed_origins` holds at most {MAX_ORIGINS} origins"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for raw in list {
        let o = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        let rest = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
                && !host.starts_with(':')
        });
        if !valid {
            return Err(Error::validation(
                "allowed_origins",
                format!(
                    "`allowed_origins` entry {raw:?} is not an origin like https://example.com"
                ),
            ));
        }
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(out)
}

fn patch_text(field: &str, p: Patch<String>, max: usize) -> Result<Option<Option<String>>> {
    Ok(match p {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(v) => Some(text(field, &v, max)?),
    })
}

fn visible(account_id: Uuid) -> sea_orm::Select<agents::Entity> {
    agents::Entity::find()
        .filter(agents::Column::AccountId.eq(account_id))
        .filter(agents::Column::DeletedAt.is_null())
}

/// Accounts with more agents than this are paged in the database instead of the cache.
const MAX_CACHED: u64 = 1_000;

fn newest_first(q: sea_orm::Select<agents::Entity>) -> sea_orm::Select<agents::Entity> {
    q.order_by_desc(agents::Column::CreatedAt)
        .order_by_desc(agents::Column::Id)
}

/// All the account's agents, newest first, from the read cache when possible; `None` when the
/// account has too many to cache.
async fn all_cached(ctx: &Context, account_id: Uuid) -> Result<Option<Arc<Vec<agents::Model>>>> {
    let ticket = match ctx.agent_cache.get(account_id) {
        Ok(all) => return Ok(Some(all)),
        Err(ticket) => ticket,
    };
    let rows = newest_first(visible(account_id))
        .limit(MAX_CACHED + 1)
        .all(&ctx.db)
        .await?;
    if rows.len() as u64 > MAX_CACHED {
        return Ok(None);
    }
    let rows = Arc::new(rows);
    ctx.agent_cache.put(account_id, ticket, rows.clone());
    Ok(Some(rows))
}

/// The account's agents, newest first, with the total.
pub async fn list(
    ctx: &Context,
    account_id: Uuid,
    limit: u64,
    offset: u64,
) -> Result<(Vec<agents::Model>, u64)> {
    if let Some(all) = all_cached(ctx, account_id).await? {
        let page = all
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect();
        return Ok((page, all.len() as u64));
    }
    let total = visible(account_id).count(&ctx.db).await?;
    let rows = newest_first(visible(account_id))
        .limit(limit)
        .offset(offset)
        .all(&ctx.db)
        .await?;
    Ok((rows, total))
}

/// One agent of the account.
pub async fn get(ctx: &Context, account_id: Uuid, id: Uuid) -> Result<agents::Model> {
    if let Some(all) = all_cached(ctx, account_id).await? {
        return all
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or(Error::NotFound("agent"));
    }
    fresh(&ctx.db, account_id, id).await
}

/// One agent of the account, read from the database (for updates).
async fn fresh(db: &DatabaseConnection, account_id: Uuid, id: Uuid) -> Result<agents::Model> {
    visible(account_id)
        .filter(agents::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("agent"))
}

/// Validates and creates an agent.
pub async fn create(ctx: &Context, account_id: Uuid, new: NewAgent) -> Result<agents::Model> {
    let now = Utc::now();
    let mut model = agents::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(account_id),
        public_id: Set(format!("ag_{}", random_base62(20))),
        name: Set(name(&new.name)?),
        personality: Set(new.personality.unwrap_or(Personality::Professional)),
        system_prompt: Set(text(
            "system_prompt",
            new.system_prompt.as_deref().unwrap_or(""),
            10_000,
        )?),
        language: Set(language(new.language.as_deref().unwrap_or(""))?),
        welcome_message: Set(text(
            "welcome_message",
            new.welcome_message.as_deref().unwrap_or(""),
            1_000,
        )?),
        primary_color: Set(color(
            new.primary_color.as_deref().unwrap_or(DEFAULT_COLOR),
        )?),
        is_active: Set(new.is_active.unwrap_or(true)),
        allowed_origins: Set(json!(origins(&new.allowed_origins.unwrap_or_default())?)),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        knowledge_version: Set(0),
        lead_form_fields: Set("name,email".into()),
        lead_form_trigger: Set(LeadFormTrigger::AfterMessages),
        lead_form_after_messages: Set(2),
        daily_message_cap: Set(1000),
    };
    new.widget.apply(&mut model)?;
    let agent = agents::Entity::insert(model)
        .exec_with_returning(&ctx.db)
        .await?;
    ctx.agent_cache.evict(account_id).await;
    Ok(agent)
}

/// Validates and applies a partial update.
pub async fn update(
    ctx: &Context,
    account_id: Uuid,
    id: Uuid,
    patch: AgentPatch,
) -> Result<agents::Model> {
    let current = fresh(&ctx.db, account_id, id).await?;
    let mut m: agents::ActiveModel = current.into();
    if let Some(v) = patch.name {
        m.name = Set(name(&v)?);
    }
    if let Some(v) = patch.personality {
        m.personality = Set(v);
    }
    if let Some(v) = patch_text("system_prompt", patch.system_prompt, 10_000)? {
        m.system_prompt = Set(v);
    }
    match patch.language {
        Patch::Keep => {}
        Patch::Clear => m.language = Set(None),
        Patch::Set(v) => m.language = Set(language(&v)?),
    }
    if let Some(v) = patch_text("welcome_message", patch.welcome_message, 1_000)? {
        m.welcome_message = Set(v);
    }
    if let Some(v) = patch.primary_color {
        m.primary_color = Set(color(&v)?);
    }
    if let Some(v) = patch.is_active {
        m.is_active = Set(v);
    }
    if let Some(v) = patch.allowed_origins {
        m.allowed_origins = Set(json!(origins(&v)?));
    }
    patch.widget.apply(&mut m)?;
    m.updated_at = Set(Utc::now());
    let agent = m.update(&ctx.db).await?;
    ctx.agent_cache.evict(account_id).await;
    Ok(agent)
}

/// The active-or-not agent with this public id (for the widget's public routes), or `NotFound`.
pub async fn by_public_id(ctx: &Context, public_id: &str) -> Result<agents::Model> {
    agents::Entity::find()
        .filter(agents::Column::PublicId.eq(public_id))
        .filter(agents::Column::DeletedAt.is_null())
        .one(&ctx.db)
        .await?
        .ok_or(Error::NotFound("agent"))
}

/// Marks the agent deleted and enqueues its purge, atomically.
pub async fn delete(ctx: &Context, account_id: Uuid, id: Uuid) -> Result<()> {
    let txn = ctx.db.begin().await?;
    let res = agents::Entity::update_many()
        .col_expr(
            agents::Column::DeletedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(agents::Column::Id.eq(id))
        .filter(agents::Column::AccountId.eq(account_id))
        .filter(agents::Column::DeletedAt.is_null())
        .exec(&txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound("agent"));
    }
    Queue::enqueue_in(
        &txn,
        &Job::PurgeAgent {
            account_id,
            agent_id: id,
        },
    )
    .await?;
    txn.commit().await?;
    ctx.agent_cache.evict(account_id).await;
    ctx.queue.notify().await;
    Ok(())
}

/// Removes a deleted agent and everything that belongs to it. Idempotent.
pub async fn purge(db: &DatabaseConnection, account_id: Uuid, id: Uuid) -> Result<u64> {
    let deleted = agents::Entity::find_by_id(id)
        .filter(agents::Column::AccountId.eq(account_id))
        .filter(agents::Column::DeletedAt.is_not_null())
        .one(db)
        .await?;
    if deleted.is_none() {
        return Ok(0);
    }
    crate::knowledge::store::purge_agent(db, id).await?;
    otoq_entities::messages::Entity::delete_many()
        .filter(otoq_entities::messages::Column::AgentId.eq(id))
        .exec(db)
        .await?;
    otoq_entities::conversations::Entity::delete_many()
        .filter(otoq_entities::conversations::Column::AgentId.eq(id))
        .exec(db)
        .await?;
    let res = agents::Entity::delete_many()
        .filter(agents::Column::Id.eq(id))
        .filter(agents::Column::AccountId.eq(account_id))
        .filter(agents::Column::DeletedAt.is_not_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_checked() {
        let ok = origins(&[
            "https://Example.com/".into(),
            "http://localhost:3000".into(),
            "https://example.com".into(),
        ])
        .unwrap();
        assert_eq!(ok, vec!["https://example.com", "http://localhost:3000"]);
        for bad in [
            "example.com",
            "ftp://x.io",
            "https://x.io/path",
            "https://",
            "https://x.io?q=1",
        ] {
            assert!(origins(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_rules() {
        assert!(name("").is_err());
        assert!(name(&"x".repeat(101)).is_err());
        assert_eq!(name("  Bot ").unwrap(), "Bot");
        assert_eq!(color("#ABCDEF").unwrap(), "#abcdef");
        assert!(color("red").is_err());
        assert!(language("pt-BR").unwrap().is_some());
        assert!(language("english!").is_err());
        assert!("grumpy".parse::<Personality>().is_err());
    }
}

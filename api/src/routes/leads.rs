//! `/leads`: capture a lead, list and read leads with their explained scores.

use otoq_core::Context;
use otoq_core::leads::contact::{Contact, normalize_email, normalize_phone};
use otoq_core::leads::store::{self, Filter};
use otoq_entities::enums::LeadSource;
use otoq_entities::leads::Model;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::envelope::{self, Page};
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::text::Text;
use crate::timestamp::Timestamp;

/// Why a lead scored what it did: one signal and its points.
#[derive(Object, serde::Deserialize)]
pub struct ScoreReason {
    /// e.g. `email`, `phone`, `intent:pricing`, `engagement`, `sentiment`.
    pub signal: String,
    pub points: i32,
    /// For a person.
    pub detail: String,
}

/// A lead.
#[derive(Object)]
pub struct Lead {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// E.164, e.g. `+351912345678`.
    pub phone: Option<String>,
    pub company: Option<String>,
    pub source: LeadSource,
    /// 0–100; see `score_reasons`.
    pub score: i32,
    /// The signals behind the score.
    pub score_reasons: Vec<ScoreReason>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Model> for Lead {
    fn from(m: Model) -> Self {
        Lead {
            id: m.id,
            agent_id: m.agent_id,
            conversation_id: m.conversation_id,
            name: m.name,
            email: m.email,
            phone: m.phone,
            company: m.company,
            source: m.source,
            score: m.score,
            score_reasons: serde_json::from_value(m.score_reasons).unwrap_or_default(),
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

/// Where a lead given through the API came from.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum InputSource {
    /// The widget's lead form.
    Form,
    /// Anything else using the API.
    Api,
}

/// A lead to capture. At least one of `email` and `phone` is required: without either the
/// server answers 400 `validation_error` naming `email`.
#[derive(Object)]
pub struct CreateLead {
    pub agent_id: Uuid,
    /// The conversation it came from; a lead with the same conversation and email is updated.
    pub conversation_id: Option<Uuid>,
    pub name: Option<Text<200>>,
    /// An email address; the domain is lower-cased.
    #[oai(validator(
        max_length = 254,
        pattern = r"^[A-Za-z0-9_%+-]{1,32}(\.[A-Za-z0-9_%+-]{1,15}){0,2}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,4}[A-Za-z][A-Za-z0-9]{1,20}$"
    ))]
    pub email: Option<String>,
    /// International format: `+` and 8–15 digits, optionally grouped by single spaces or hyphens
    /// (`+351 912 345 678`); stored as E.164.
    #[oai(validator(max_length = 30, pattern = r"^\+[1-9](?:[ -]?[0-9]){7,14}$"))]
    pub phone: Option<String>,
    pub company: Option<Text<200>>,
    /// `form` (the widget's form) or `api` (default).
    pub source: Option<InputSource>,
}

/// The lead was created, or an existing one completed.
#[derive(ApiResponse)]
pub enum Captured {
    /// A new lead; `lead.captured` is delivered to the webhook.
    #[oai(status = 201)]
    Created(Json<envelope::Data<Lead>>),
    /// The conversation's lead with that email was completed.
    #[oai(status = 200)]
    Updated(Json<envelope::Data<Lead>>),
}

fn text<T: std::ops::Deref<Target = str>>(v: Option<T>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Default)]
pub struct LeadsApi;

#[OpenApi(tag = "Tag::Leads")]
impl LeadsApi {
    /// Capture a lead
    ///
    /// Scored from its contact details and, with a `conversation_id`, the conversation (buying
    /// intent, engagement, sentiment). A new lead is delivered to the webhook as `lead.captured`.
    #[oai(path = "/leads", method = "post", operation_id = "createLead")]
    async fn create(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        body: Json<CreateLead>,
    ) -> Result<Captured, ApiError> {
        let b = body.0;
        // An unknown agent is a 404 before anything about the body is judged.
        otoq_core::agents::get(&ctx, auth.0.account_id, b.agent_id).await?;
        let email = match text(b.email) {
            Some(e) => Some(
                normalize_email(&e).map_err(|m| ApiError::validation(format!("`email`: {m}")))?,
            ),
            None => None,
        };
        let phone = match text(b.phone) {
            Some(p) => Some(
                normalize_phone(&p, None)
                    .map_err(|m| ApiError::validation(format!("`phone`: {m}")))?,
            ),
            None => None,
        };
        let contact = Contact {
            name: text(b.name),
            email,
            phone,
            company: text(b.company),
        };
        let source = match b.source.unwrap_or(InputSource::Api) {
            InputSource::Form => LeadSource::Form,
            InputSource::Api => LeadSource::Api,
        };
        let (lead, new) = store::capture(
            &ctx,
            auth.0.account_id,
            b.agent_id,
            b.conversation_id,
            contact,
            source,
        )
        .await?;
        Ok(if new {
            Captured::Created(envelope::data(lead.into()))
        } else {
            Captured::Updated(envelope::data(lead.into()))
        })
    }

    /// List leads
    ///
    /// Newest first; filter by agent, creation time and least score.
    #[oai(path = "/leads", method = "get", operation_id = "listLeads")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        agent_id: Query<Option<Uuid>>,
        /// Created at or after (RFC 3339).
        since: Query<Option<Timestamp>>,
        /// Least score, 0–100.
        #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
        min_score: Query<Option<i32>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<Lead>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let f = Filter {
            agent_id: agent_id.0,
            since: since.0.map(|t| t.0),
            min_score: min_score.0,
        };
        let (rows, total) =
            store::list(&ctx.db, auth.0.account_id, f, page.limit, page.offset).await?;
        Ok(envelope::list(
            rows.into_iter().map(Lead::from).collect(),
            total,
            page,
        ))
    }

    /// Get a lead
    ///
    /// With the reasons behind its score.
    #[oai(path = "/leads/:id", method = "get", operation_id = "getLead")]
    async fn get(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<Lead>>, ApiError> {
        Ok(envelope::data(
            store::get(&ctx.db, auth.0.account_id, id.0).await?.into(),
        ))
    }
}

//! `/agents`: list, create, read, update and delete agents.

use otoq_core::Context;
use otoq_core::agents::{self, AgentPatch, NewAgent, Patch};
use otoq_entities::agents::Model;
use otoq_entities::enums::Personality;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::agent_widget::{self, EmbedCode, LeadField, LeadFormTrigger};
use crate::envelope::{self, Page};
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::text::{NonBlankText, Text};
use crate::timestamp::Timestamp;

/// An AI agent.
#[derive(Object)]
pub struct Agent {
    pub id: Uuid,
    /// Identifier used by the chat widget; safe to publish.
    pub public_id: String,
    pub name: String,
    pub personality: Personality,
    /// Extra instructions for the agent.
    pub system_prompt: Option<String>,
    /// Language the agent always answers in (a tag such as `en`); unset: the visitor's.
    pub language: Option<String>,
    /// First message of every conversation.
    pub welcome_message: Option<String>,
    /// Brand colour of the widget, `#rrggbb`.
    pub primary_color: String,
    /// Inactive agents do not answer.
    pub is_active: bool,
    /// Origins allowed to embed the widget; empty allows every origin.
    pub allowed_origins: Vec<String>,
    /// Fields of the widget's lead form; empty: no form.
    pub lead_form_fields: Vec<LeadField>,
    /// When the widget shows the lead form.
    pub lead_form_trigger: LeadFormTrigger,
    /// With `after_messages`: after this many visitor messages.
    pub lead_form_after_messages: i32,
    /// Widget messages the agent answers per day at most (then the widget says so).
    pub daily_message_cap: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Model> for Agent {
    fn from(m: Model) -> Self {
        let lead_form_fields = agent_widget::fields(&m);
        Agent {
            id: m.id,
            public_id: m.public_id,
            name: m.name,
            personality: m.personality,
            system_prompt: m.system_prompt,
            language: m.language,
            welcome_message: m.welcome_message,
            primary_color: m.primary_color,
            is_active: m.is_active,
            allowed_origins: serde_json::from_value(m.allowed_origins).unwrap_or_default(),
            lead_form_fields,
            lead_form_trigger: m.lead_form_trigger,
            lead_form_after_messages: m.lead_form_after_messages,
            daily_message_cap: m.daily_message_cap,
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

// Schema constraints mirror otoq_core::agents' validation, so the spec tells the whole truth.

/// A new agent. Only `name` is required.
#[derive(Object)]
#[oai(deny_unknown_fields, example)]
pub struct CreateAgent {
    /// 1–100 characters.
    pub name: NonBlankText<100>,
    /// Default `professional`.
    pub personality: Option<Personality>,
    pub system_prompt: Option<Text<10000>>,
    #[oai(validator(max_length = 35, pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"))]
    pub language: Option<String>,
    pub welcome_message: Option<Text<1000>>,
    /// Default `#6366f1`.
    #[oai(validator(pattern = r"^#[0-9a-fA-F]{6}$"))]
    pub primary_color: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Origins like `https://shop.example.com`; at most 50.
    #[oai(validator(
        max_items = 50,
        pattern = r"^https?://[A-Za-z0-9.\-\[\]][A-Za-z0-9.\-:\[\]]*/?$",
        max_length = 260
    ))]
    pub allowed_origins: Option<Vec<String>>,
    /// Fields of the widget's lead form; `[]`: no form. Without `email` or `phone`, `email` is
    /// added (a lead needs one). Default `["name", "email"]`.
    #[oai(validator(max_items = 4))]
    pub lead_form_fields: Option<Vec<LeadField>>,
    /// When the widget shows the lead form. Default `after_messages`.
    pub lead_form_trigger: Option<LeadFormTrigger>,
    /// With `after_messages`: after this many visitor messages, 1–50. Default 2.
    #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
    pub lead_form_after_messages: Option<i32>,
    /// Widget messages answered per day, 1–1000000. Default 1000.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub daily_message_cap: Option<i32>,
}

impl poem_openapi::types::Example for CreateAgent {
    fn example() -> Self {
        CreateAgent {
            name: NonBlankText::literal("Support Bot"),
            personality: Some(Personality::Friendly),
            system_prompt: None,
            language: None,
            welcome_message: Some(Text::literal("Hi! How can I help?")),
            primary_color: Some("#6366f1".into()),
            is_active: None,
            allowed_origins: Some(vec!["https://shop.example.com".into()]),
            lead_form_fields: Some(vec![LeadField::Name, LeadField::Email]),
            lead_form_trigger: Some(LeadFormTrigger::AfterMessages),
            lead_form_after_messages: Some(2),
            daily_message_cap: None,
        }
    }
}

/// A partial update: absent fields stay as they are; `null` clears an optional text.
#[derive(Object)]
#[oai(deny_unknown_fields, example)]
pub struct UpdateAgent {
    pub name: Option<NonBlankText<100>>,
    pub personality: Option<Personality>,
    pub system_prompt: MaybeUndefined<Text<10000>>,
    #[oai(validator(max_length = 35, pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"))]
    pub language: MaybeUndefined<String>,
    pub welcome_message: MaybeUndefined<Text<1000>>,
    #[oai(validator(pattern = r"^#[0-9a-fA-F]{6}$"))]
    pub primary_color: Option<String>,
    pub is_active: Option<bool>,
    #[oai(validator(
        max_items = 50,
        pattern = r"^https?://[A-Za-z0-9.\-\[\]][A-Za-z0-9.\-:\[\]]*/?$",
        max_length = 260
    ))]
    pub allowed_origins: Option<Vec<String>>,
    /// Fields of the widget's lead form; `[]`: no form. Without `email` or `phone`, `email` is
    /// added (a lead needs one). Default `["name", "email"]`.
    #[oai(validator(max_items = 4))]
    pub lead_form_fields: Option<Vec<LeadField>>,
    /// When the widget shows the lead form. Default `after_messages`.
    pub lead_form_trigger: Option<LeadFormTrigger>,
    /// With `after_messages`: after this many visitor messages, 1–50. Default 2.
    #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
    pub lead_form_after_messages: Option<i32>,
    /// Widget messages answered per day, 1–1000000. Default 1000.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub daily_message_cap: Option<i32>,
}

impl poem_openapi::types::Example for UpdateAgent {
    fn example() -> Self {
        UpdateAgent {
            name: Some(NonBlankText::literal("Updated Bot")),
            personality: None,
            system_prompt: MaybeUndefined::Undefined,
            language: MaybeUndefined::Undefined,
            welcome_message: MaybeUndefined::Undefined,
            primary_color: None,
            is_active: Some(false),
            allowed_origins: None,
            lead_form_fields: None,
            lead_form_trigger: None,
            lead_form_after_messages: None,
            daily_message_cap: None,
        }
    }
}

fn patch<T: Into<String>>(v: MaybeUndefined<T>) -> Patch<String> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v.into()),
    }
}

/// The agent was created.
#[derive(ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<envelope::Data<Agent>>),
}

#[derive(Default)]
pub struct AgentsApi;

#[OpenApi(prefix_path = "/agents", tag = "Tag::Agents")]
impl AgentsApi {
    /// List agents
    ///
    /// The account's agents, newest first.
    #[oai(path = "/", method = "get", operation_id = "listAgents")]
    async fn list(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<Agent>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let (rows, total) = agents::list(&ctx, auth.0.account_id, page.limit, page.offset).await?;
        Ok(envelope::list(
            rows.into_iter().map(Agent::from).collect(),
            total,
            page,
        ))
    }

    /// Create an agent
    #[oai(path = "/", method = "post", operation_id = "createAgent")]
    async fn create(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        body: Json<CreateAgent>,
    ) -> Result<Created, ApiError> {
        let b = body.0;
        let new = NewAgent {
            name: b.name.into(),
            personality: b.personality,
            system_prompt: b.system_prompt.map(Into::into),
            language: b.language,
            welcome_message: b.welcome_message.map(Into::into),
            primary_color: b.primary_color,
            is_active: b.is_active,
            allowed_origins: b.allowed_origins,
            widget: agent_widget::settings(
                b.lead_form_fields,
                b.lead_form_trigger,
                b.lead_form_after_messages,
                b.daily_message_cap,
            ),
        };
        let agent = agents::create(&ctx, auth.0.account_id, new).await?;
        Ok(Created::Created(envelope::data(agent.into())))
    }

    /// Get an agent
    #[oai(path = "/:id", method = "get", operation_id = "getAgent")]
    async fn get(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<Agent>>, ApiError> {
        let agent = agents::get(&ctx, auth.0.account_id, id.0).await?;
        Ok(envelope::data(agent.into()))
    }

    /// Update an agent
    ///
    /// Partial: only the fields sent change. Unknown fields are refused.
    #[oai(path = "/:id", method = "patch", operation_id = "updateAgent")]
    async fn update(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
        body: Json<UpdateAgent>,
    ) -> Result<Json<envelope::Data<Agent>>, ApiError> {
        let b = body.0;
        let p = AgentPatch {
            name: b.name.map(Into::into),
            personality: b.personality,
            system_prompt: patch(b.system_prompt),
            language: patch(b.language),
            welcome_message: patch(b.welcome_message),
            primary_color: b.primary_color,
            is_active: b.is_active,
            allowed_origins: b.allowed_origins,
            widget: agent_widget::settings(
                b.lead_form_fields,
                b.lead_form_trigger,
                b.lead_form_after_messages,
                b.daily_message_cap,
            ),
        };
        let agent = agents::update(&ctx, auth.0.account_id, id.0, p).await?;
        Ok(envelope::data(agent.into()))
    }

    /// Get the embed code of an agent
    ///
    /// The script tag (and an iframe variant) that puts the agent's chat widget on a site. The
    /// widget talks to public routes scoped by the agent's `public_id`; no API key is ever in the page.
    #[oai(path = "/:id/embed", method = "get", operation_id = "getAgentEmbed")]
    async fn embed(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<EmbedCode>>, ApiError> {
        let agent = agents::get(&ctx, auth.0.account_id, id.0).await?;
        Ok(envelope::data(agent_widget::embed(
            &ctx.config.public_url,
            &agent.public_id,
        )))
    }

    /// Delete an agent
    ///
    /// The agent disappears at once; what belongs to it is purged in the background.
    #[oai(path = "/:id", method = "delete", operation_id = "deleteAgent")]
    async fn delete(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Success>, ApiError> {
        agents::delete(&ctx, auth.0.account_id, id.0).await?;
        Ok(envelope::success())
    }
}

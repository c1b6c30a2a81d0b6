//! `POST /chat`: a visitor's message in, the agent's grounded reply out (JSON or SSE).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use otoq_core::Context;
use otoq_core::chat::{self, ChatEvent, ChatInput, ChatReply, Citation};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ToJSON, Type};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::envelope;
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::text::NonBlankText;
use otoq_entities::enums::ConversationStatus;

/// A visitor's message to an agent.
#[derive(Object)]
pub struct ChatRequest {
    pub agent_id: Uuid,
    /// What the visitor wrote.
    pub message: NonBlankText<4000>,
    /// Continue this conversation; omit to start a new one (counted toward the month's plan limit).
    pub conversation_id: Option<Uuid>,
    /// Answer with Server-Sent Events: `token` events with pieces of the reply, then one `done`
    /// event whose data is the same object a JSON reply holds (its `response` is authoritative).
    pub stream: Option<bool>,
}

/// A passage the reply is based on.
#[derive(Object)]
pub struct SourceRef {
    pub source_id: Uuid,
    /// The passage.
    pub chunk_id: Uuid,
    /// Title of the page or document.
    pub title: String,
    pub url: Option<String>,
    /// The part of the passage that answers.
    pub snippet: String,
    /// Evidence that the passage answers the question, 0–1.
    pub score: f64,
}

impl From<Citation> for SourceRef {
    fn from(c: Citation) -> Self {
        SourceRef {
            source_id: c.source_id,
            chunk_id: c.chunk_id,
            title: c.title,
            url: c.url,
            snippet: c.snippet,
            score: c.score as f64,
        }
    }
}

/// The agent's reply.
#[derive(Object)]
pub struct ChatResult {
    pub conversation_id: Uuid,
    /// The stored reply message.
    pub message_id: Uuid,
    /// What the agent says.
    pub response: String,
    /// Passages the reply is based on; empty when it is not an answer from knowledge.
    pub sources: Vec<SourceRef>,
    /// Whether the reply answers from the agent's knowledge.
    pub answered: bool,
    /// Whether the reply offers to connect the visitor with a person (the visitor accepts by
    /// saying so, or the owner calls `POST /conversations/{id}/handoff`).
    pub handoff_offered: bool,
    /// The conversation's status after this message.
    pub status: ConversationStatus,
    /// The agent's welcome message, when this message started the conversation.
    pub welcome_message: Option<String>,
}

impl From<ChatReply> for ChatResult {
    fn from(r: ChatReply) -> Self {
        ChatResult {
            conversation_id: r.conversation_id,
            message_id: r.message_id,
            response: r.response,
            sources: r.sources.into_iter().map(Into::into).collect(),
            answered: r.answered,
            handoff_offered: r.handoff_offered,
            status: r.status,
            welcome_message: r.welcome_message,
        }
    }
}

/// The reply, as JSON or as an event stream.
pub enum ChatResponse {
    Json(Box<ChatResult>, String),
    Stream(futures::stream::BoxStream<'static, ChatEvent>),
}

pub(crate) fn timing(r: &ChatReply) -> String {
    format!(
        "retrieval;dur={:.2}, answer;dur={:.2}, total;dur={:.2}",
        r.timings.retrieval.as_secs_f64() * 1000.0,
        r.timings.answer.as_secs_f64() * 1000.0,
        r.timings.total.as_secs_f64() * 1000.0
    )
}

fn sse(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// A reply as the widget's visitors see it: sources without the internal `source_id` and
/// `chunk_id`.
fn public_view(mut result: serde_json::Value) -> serde_json::Value {
    if let Some(sources) = result["sources"].as_array_mut() {
        for s in sources.iter_mut().filter_map(|s| s.as_object_mut()) {
            s.remove("source_id");
            s.remove("chunk_id");
        }
    }
    result
}

impl IntoResponse for ChatResponse {
    fn into_response(self) -> Response {
        self.render(false)
    }
}

impl ChatResponse {
    /// The reply for a widget visitor (see `public_view`).
    pub fn into_public_response(self) -> Response {
        self.render(true)
    }

    fn render(self, public: bool) -> Response {
        let view = move |r: ChatResult| {
            let v = r.to_json().unwrap_or_default();
            if public { public_view(v) } else { v }
        };
        match self {
            ChatResponse::Json(result, timing) => {
                let mut resp = Json(serde_json::json!({ "data": view(*result) })).into_response();
                if let Ok(v) = timing.parse() {
                    resp.headers_mut().insert("server-timing", v);
                }
                resp
            }
            ChatResponse::Stream(events) => {
                let done = Arc::new(AtomicBool::new(false));
                let seen = done.clone();
                let body = events
                    .map(move |e| match e {
                        ChatEvent::Token(t) => sse("token", &serde_json::json!({ "text": t })),
                        ChatEvent::Done(reply) => {
                            seen.store(true, Ordering::Relaxed);
                            let data = view(ChatResult::from(*reply));
                            sse("done", &serde_json::json!({ "data": data }))
                        }
                    })
                    .chain(futures::stream::once(async move {
                        if done.load(Ordering::Relaxed) {
                            Bytes::new()
                        } else {
                            sse(
                                "error",
                                &serde_json::json!({
                                    "error": crate::error::ErrorCode::InternalError.as_str(),
                                    "message": "The reply could not be completed. Retry, or contact support with the X-Request-Id."
                                }),
                            )
                        }
                    }))
                    .map(Ok::<_, std::io::Error>);
                Response::builder()
                    .content_type("text/event-stream")
                    .header("cache-control", "no-cache")
                    .header("x-accel-buffering", "no")
                    .body(poem::Body::from_bytes_stream(body))
            }
        }
    }
}

/// One Server-Sent Event of a streamed reply: its name and its JSON data (as text).
fn sse_event_schema() -> MetaSchemaRef {
    let mut event = MetaSchema::new("string");
    event.enum_items = vec!["token".into(), "done".into(), "error".into()];
    let mut schema = MetaSchema::new("object");
    schema.description = Some(
        "`token`: `{\"text\"}`; `done`: `{\"data\": ChatResult}`; `error`: `{\"error\", \"message\"}`",
    );
    schema.properties = vec![
        ("event", MetaSchemaRef::Inline(Box::new(event))),
        (
            "data",
            MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
        ),
    ];
    schema.required = vec!["event", "data"];
    MetaSchemaRef::Inline(Box::new(schema))
}

impl ApiResponse for ChatResponse {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The reply. With `stream: true`, `text/event-stream`: `token` events \
                              `{\"text\": ...}`, then a `done` event `{\"data\": ChatResult}`.",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: Json::<envelope::Data<ChatResult>>::schema_ref(),
                    },
                    MetaMediaType {
                        content_type: "text/event-stream",
                        schema: sse_event_schema(),
                    },
                ],
                headers: vec![MetaHeader {
                    name: "Server-Timing".into(),
                    description: Some(
                        "Milliseconds spent on retrieval, answering and in total (JSON replies)."
                            .into(),
                    ),
                    required: false,
                    deprecated: false,
                    schema: String::schema_ref(),
                }],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        <envelope::Data<ChatResult> as Type>::register(registry);
    }
}

#[derive(Default)]
pub struct ChatApi;

#[OpenApi(tag = "Tag::Chat")]
impl ChatApi {
    /// Send a message to an agent
    ///
    /// Answers only from the agent's knowledge, citing the passages used. When the knowledge does
    /// not cover the question, the agent says so honestly and offers a person (`handoff_offered`)
    /// — no text is generated then. Without `conversation_id` a new conversation starts (the
    /// agent's welcome message is its first message) and counts toward the month's plan limit:
    /// past it, 429 `plan_limit_reached`. An inactive agent answers 400.
    #[oai(path = "/chat", method = "post", operation_id = "chat")]
    async fn chat(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        body: Json<ChatRequest>,
    ) -> Result<ChatResponse, ApiError> {
        let input = ChatInput {
            agent_id: body.0.agent_id,
            message: body.0.message.into(),
            conversation_id: body.0.conversation_id,
            visitor_id: None,
        };
        if body.0.stream.unwrap_or(false) {
            let events = chat::chat(&ctx, auth.0.account_id, auth.0.plan, input).await?;
            return Ok(ChatResponse::Stream(events));
        }
        let reply = chat::chat_once(&ctx, auth.0.account_id, auth.0.plan, input).await?;
        let t = timing(&reply);
        Ok(ChatResponse::Json(Box::new(reply.into()), t))
    }
}

//! One module per API resource.

pub mod agent_widget;
pub mod agents;
pub mod analytics;
pub mod api_keys;
pub mod chat;
pub mod conversations;
pub mod health;
pub mod leads;
pub mod shopify;
pub mod sources;
pub mod webhook;

use poem_openapi::Tags;

/// Groups of operations in the docs.
#[derive(Tags)]
pub enum Tag {
    /// AI agents: their identity, personality and where they may be embedded.
    Agents,
    /// API keys of the account.
    ApiKeys,
    /// Knowledge sources: websites, documents, texts and Q&A the agent answers from.
    Sources,
    /// Chatting with an agent: grounded answers with their sources.
    Chat,
    /// Conversations, their messages, and handing them over to a person.
    Conversations,
    /// Figures: conversations, sentiment, handoffs and knowledge gaps.
    Analytics,
    /// Leads captured from chat, forms and the API, with explained scores.
    Leads,
    /// The webhook endpoint, signed deliveries, their log and replay.
    Webhooks,
}

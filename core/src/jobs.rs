//! Payloads of background jobs: what the API asks the workers to do.

use otoq_entities::enums::JobKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One unit of background work. Serialized as JSON into the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Delete an agent that was marked deleted, and everything that belongs to it.
    PurgeAgent { account_id: Uuid, agent_id: Uuid },
    /// Fetch, extract, chunk and embed a knowledge source; `run_id` is shared by the retries
    /// of one sync so a resumed run reuses what it already staged.
    SyncSource {
        account_id: Uuid,
        source_id: Uuid,
        run_id: Uuid,
    },
    /// Delete a deleted source's documents, chunks and file.
    PurgeSource { account_id: Uuid, source_id: Uuid },
    /// Email the account owner that a visitor asked for a person, with the transcript.
    HandoffEmail {
        account_id: Uuid,
        conversation_id: Uuid,
    },
    /// Make one attempt at delivering a webhook event (the delivery row holds the schedule).
    DeliverWebhook { delivery_id: Uuid },
    /// Judge a conversation's sentiment with the LLM (the lexicon's judgement stands until then).
    /// Enqueued only when a visitor message reached the LLM (`message_id`); the LLM then sees
    /// that message and the conversation's other visitor messages that were not refused below
    /// the answerability gate.
    ClassifySentiment {
        account_id: Uuid,
        conversation_id: Uuid,
        #[serde(default)]
        message_id: Option<Uuid>,
    },
    /// Email the account owner that one of an agent's widget limits started refusing visitors
    /// (`limit` names it; sent once per period of the limit).
    LimitEmail {
        account_id: Uuid,
        agent_id: Uuid,
        limit: String,
    },
    /// Re-index one product of a Shopify shop (fetched again), or remove it when `deleted`.
    ShopifyProduct {
        shop_id: Uuid,
        product_id: String,
        deleted: bool,
    },
}

impl Job {
    /// The job's kind as stored in the queue (for logs and statistics).
    pub fn kind(&self) -> JobKind {
        match self {
            Job::PurgeAgent { .. } => JobKind::PurgeAgent,
            Job::SyncSource { .. } => JobKind::SyncSource,
            Job::PurgeSource { .. } => JobKind::PurgeSource,
            Job::HandoffEmail { .. } => JobKind::HandoffEmail,
            Job::ClassifySentiment { .. } => JobKind::ClassifySentiment,
            Job::DeliverWebhook { .. } => JobKind::DeliverWebhook,
            Job::ShopifyProduct { .. } => JobKind::ShopifyProduct,
            Job::LimitEmail { .. } => JobKind::LimitEmail,
        }
    }

    /// How many times the job is tried before it is parked as dead.
    pub fn max_attempts(&self) -> i32 {
        match self {
            Job::PurgeAgent { .. } | Job::PurgeSource { .. } => 25,
            Job::SyncSource { .. } => 8,
            // Mail servers can be down for a while: keep trying for about a day.
            Job::HandoffEmail { .. } => 30,
            Job::ClassifySentiment { .. } => 3,
            // An attempt that could not even be recorded (database trouble) is tried again;
            // the delivery's own retries are scheduled by the delivery, not by the queue.
            Job::DeliverWebhook { .. } => 20,
            Job::ShopifyProduct { .. } => 8,
            Job::LimitEmail { .. } => 10,
        }
    }
}

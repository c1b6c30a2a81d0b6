//! The domain's closed sets (plans, statuses, roles, kinds): stored as their names in string
//! columns by sea-orm, shown as enums in the OpenAPI document (feature `openapi`).

use std::fmt;
use std::str::FromStr;

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A name that is not one of a set's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    /// The set, e.g. `plan`.
    pub set: &'static str,
    pub value: String,
    /// The values allowed, comma-separated.
    pub expected: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}: expected one of {}",
            self.set, self.value, self.expected
        )
    }
}

impl std::error::Error for UnknownValue {}

/// A stored enum: its derives (sea-orm string column, serde, poem-openapi behind `openapi`),
/// each variant's one name, and `ALL`, `as_str`, a strict `FromStr` and `Display` from them.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident in $set:literal {
            $( $(#[doc = $doc:literal])* $variant:ident = $name:literal ),+ $(,)?
        }
    ) => {
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        $(#[$meta])*
        pub enum $ty {
            $(
                $(#[doc = $doc])*
                #[sea_orm(string_value = $name)]
                #[serde(rename = $name)]
                #[cfg_attr(feature = "openapi", oai(rename = $name))]
                $variant,
            )+
        }

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored (and shown) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(UnknownValue {
                        set: $set,
                        value: s.to_string(),
                        expected: [$($name),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// A subscription plan.
    pub enum Plan in "plan" {
        Free = "free",
        Starter = "starter",
        Growth = "growth",
        Pro = "pro",
        Enterprise = "enterprise",
    }
}

impl Plan {
    /// Whether keys of this plan may use the REST API.
    pub fn has_api_access(self) -> bool {
        match self {
            Plan::Pro | Plan::Enterprise => true,
            Plan::Free | Plan::Starter | Plan::Growth => false,
        }
    }

    /// Most pages one website crawl of this plan may fetch.
    pub fn max_crawl_pages(self) -> u32 {
        match self {
            Plan::Free => 50,
            Plan::Starter => 200,
            Plan::Growth => 1_000,
            Plan::Pro => 5_000,
            Plan::Enterprise => 50_000,
        }
    }

    /// Conversations allowed per calendar month; `None` is unlimited.
    pub fn monthly_conversations(self) -> Option<u64> {
        match self {
            Plan::Free => Some(50),
            Plan::Starter => Some(1_000),
            Plan::Growth => Some(5_000),
            Plan::Pro => Some(15_000),
            Plan::Enterprise => None,
        }
    }
}

stored_enum! {
    /// How the agent speaks.
    pub enum Personality in "personality" {
        Professional = "professional",
        Friendly = "friendly",
        Casual = "casual",
        Formal = "formal",
    }
}

stored_enum! {
    /// When the widget shows its lead form.
    pub enum LeadFormTrigger in "lead_form_trigger" {
        /// After `lead_form_after_messages` visitor messages, and at handoff.
        AfterMessages = "after_messages",
        /// Only when the visitor asks for a person.
        Handoff = "handoff",
        /// Never.
        Off = "off",
    }
}

stored_enum! {
    /// Where a conversation stands.
    pub enum ConversationStatus in "status" {
        /// The AI answers.
        Active = "active",
        /// The visitor asked for a person; the owner was emailed and the AI is silent.
        HandoffRequested = "handoff_requested",
        Closed = "closed",
    }
}

stored_enum! {
    /// How the visitor feels, judged from their messages.
    #[cfg_attr(feature = "openapi", oai(rename = "SentimentLabel"))]
    pub enum Sentiment in "sentiment" {
        Positive = "positive",
        Neutral = "neutral",
        Negative = "negative",
    }
}

stored_enum! {
    /// Who wrote a message.
    pub enum Role in "role" {
        /// The visitor.
        User = "user",
        /// The agent.
        Assistant = "assistant",
        /// A notice, such as the handoff confirmation.
        System = "system",
    }
}

stored_enum! {
    /// Where a lead came from.
    pub enum LeadSource in "source" {
        /// Contact details the visitor gave in chat.
        Chat = "chat",
        /// The widget's lead form.
        Form = "form",
        /// Created through the API.
        Api = "api",
    }
}

stored_enum! {
    /// The kind of a knowledge source.
    #[cfg_attr(feature = "openapi", oai(rename = "SourceType"))]
    pub enum SourceKind in "type" {
        Url = "url",
        Text = "text",
        Qa = "qa",
        File = "file",
        /// A Shopify shop's catalog (created by installing the app).
        Shopify = "shopify",
    }
}

stored_enum! {
    /// Where a source's sync stands.
    pub enum SourceStatus in "status" {
        Queued = "queued",
        Processing = "processing",
        Ready = "ready",
        Failed = "failed",
    }
}

stored_enum! {
    /// Where a page or file of a source stands: indexed (wholly or in part), being read, or not
    /// indexed (failed, or skipped on purpose: robots.txt, noindex, not a web page).
    pub enum DocumentStatus in "document status" {
        Indexed = "indexed",
        Partial = "partial",
        Processing = "processing",
        Failed = "failed",
        Skipped = "skipped",
    }
}

stored_enum! {
    /// How often a source is synced again by itself.
    #[cfg_attr(feature = "openapi", oai(rename = "RefreshMode"))]
    pub enum Refresh in "refresh" {
        Off = "off",
        Daily = "daily",
        Weekly = "weekly",
    }
}

impl Refresh {
    /// When the next automatic sync is due after one finishing at `now`.
    pub fn next_after(self, now: DateTimeUtc) -> Option<DateTimeUtc> {
        match self {
            Refresh::Off => None,
            Refresh::Daily => Some(now + chrono::Duration::days(1)),
            Refresh::Weekly => Some(now + chrono::Duration::weeks(1)),
        }
    }
}

stored_enum! {
    /// Where a webhook delivery stands.
    pub enum DeliveryStatus in "status" {
        /// Waiting for its next attempt at `next_attempt_at`.
        Pending = "pending",
        /// Being attempted.
        Delivering = "delivering",
        Succeeded = "succeeded",
        /// Out of retries (or the endpoint is gone); replay it with `POST .../retry`.
        Failed = "failed",
    }
}

stored_enum! {
    /// Where a connected Shopify shop stands.
    pub enum ShopStatus in "status" {
        Active = "active",
        Uninstalled = "uninstalled",
    }
}

stored_enum! {
    /// A queued job's state (a job that is done is deleted).
    pub enum JobStatus in "status" {
        Queued = "queued",
        /// Out of attempts: kept for inspection, never run again.
        Dead = "dead",
    }
}

stored_enum! {
    /// The kind of a background job (the `kind` tag of its JSON payload).
    pub enum JobKind in "kind" {
        PurgeAgent = "purge_agent",
        SyncSource = "sync_source",
        PurgeSource = "purge_source",
        HandoffEmail = "handoff_email",
        DeliverWebhook = "deliver_webhook",
        ClassifySentiment = "classify_sentiment",
        ShopifyProduct = "shopify_product",
        LimitEmail = "limit_email",
    }
}

stored_enum! {
    /// An event a webhook endpoint can receive.
    pub enum EventName in "event" {
        /// A lead was captured (the reference's payload).
        LeadCaptured = "lead.captured",
        /// Sent by `POST /webhook/test`.
        WebhookTest = "webhook.test",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ActiveEnum;

    /// The stored name (sea-orm), the JSON name (serde) and `as_str` agree, and names parse back.
    fn agree<T>()
    where
        T: ActiveEnum<Value = String>
            + Copy
            + fmt::Display
            + FromStr
            + Serialize
            + PartialEq
            + fmt::Debug,
        <T as FromStr>::Err: fmt::Debug,
    {
        for v in <T as sea_orm::Iterable>::iter() {
            let name = v.to_string();
            assert_eq!(v.to_value(), name);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(name));
            assert_eq!(name.parse::<T>().unwrap(), v);
        }
        assert!("no such value".parse::<T>().is_err());
    }

    #[test]
    fn stored_json_and_shown_names_agree() {
        agree::<Plan>();
        agree::<Personality>();
        agree::<LeadFormTrigger>();
        agree::<ConversationStatus>();
        agree::<Sentiment>();
        agree::<Role>();
        agree::<LeadSource>();
        agree::<SourceKind>();
        agree::<DocumentStatus>();
        agree::<MemberRole>();
        agree::<SourceStatus>();
        agree::<Refresh>();
        agree::<DeliveryStatus>();
        agree::<ShopStatus>();
        agree::<JobStatus>();
        agree::<JobKind>();
        agree::<EventName>();
    }

    #[test]
    fn only_pro_and_enterprise_have_api_access() {
        let with: Vec<_> = Plan::ALL.iter().filter(|p| p.has_api_access()).collect();
        assert_eq!(with, vec![&Plan::Pro, &Plan::Enterprise]);
    }

    #[test]
    fn unknown_names_say_what_is_allowed() {
        let e = "gold".parse::<Plan>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown plan \"gold\": expected one of free, starter, growth, pro, enterprise"
        );
    }
}

stored_enum! {
    /// What a member of an account may do in the console.
    pub enum MemberRole in "role" {
        /// Everything, including the plan, API keys and deleting the account.
        Owner = "owner",
        /// Everything but the plan, API keys and deleting the account.
        Admin = "admin",
        /// The inbox and the leads.
        Agent = "agent",
    }
}

impl MemberRole {
    /// Whether this role may see and manage API keys.
    pub fn manages_keys(self) -> bool {
        matches!(self, MemberRole::Owner)
    }

    /// Whether this role may manage agents, their knowledge and installation.
    pub fn manages_agents(self) -> bool {
        matches!(self, MemberRole::Owner | MemberRole::Admin)
    }
}

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

/// `as_str`, `ALL`, `FromStr` (strict) and `Display` of a stored enum, from its variants' names.
macro_rules! names {
    ($ty:ident, $set:literal { $($variant:ident => $name:literal),+ $(,)? }) => {
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

/// A subscription plan.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Starter,
    Growth,
    Pro,
    Enterprise,
}
names!(Plan, "plan" { Free => "free", Starter => "starter", Growth => "growth", Pro => "pro", Enterprise => "enterprise" });

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

/// How the agent speaks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum Personality {
    Professional,
    Friendly,
    Casual,
    Formal,
}
names!(Personality, "personality" { Professional => "professional", Friendly => "friendly", Casual => "casual", Formal => "formal" });

/// When the widget shows its lead form.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum LeadFormTrigger {
    /// After `lead_form_after_messages` visitor messages, and at handoff.
    AfterMessages,
    /// Only when the visitor asks for a person.
    Handoff,
    /// Never.
    Off,
}
names!(LeadFormTrigger, "lead_form_trigger" { AfterMessages => "after_messages", Handoff => "handoff", Off => "off" });

/// Where a conversation stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The AI answers.
    Active,
    /// The visitor asked for a person; the owner was emailed and the AI is silent.
    HandoffRequested,
    Closed,
}
names!(ConversationStatus, "status" { Active => "active", HandoffRequested => "handoff_requested", Closed => "closed" });

/// How the visitor feels, judged from their messages.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "SentimentLabel", rename_all = "lowercase")
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}
names!(Sentiment, "sentiment" { Positive => "positive", Neutral => "neutral", Negative => "negative" });

/// Who wrote a message.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The visitor.
    User,
    /// The agent.
    Assistant,
    /// A notice, such as the handoff confirmation.
    System,
}
names!(Role, "role" { User => "user", Assistant => "assistant", System => "system" });

/// Where a lead came from.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum LeadSource {
    /// Contact details the visitor gave in chat.
    Chat,
    /// The widget's lead form.
    Form,
    /// Created through the API.
    Api,
}
names!(LeadSource, "source" { Chat => "chat", Form => "form", Api => "api" });

/// The kind of a knowledge source.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "SourceType", rename_all = "lowercase")
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Url,
    Text,
    Qa,
    File,
    /// A Shopify shop's catalog (created by installing the app).
    Shopify,
}
names!(SourceKind, "type" { Url => "url", Text => "text", Qa => "qa", File => "file", Shopify => "shopify" });

/// Where a source's sync stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    Queued,
    Processing,
    Ready,
    Failed,
}
names!(SourceStatus, "status" { Queued => "queued", Processing => "processing", Ready => "ready", Failed => "failed" });

/// How often a source is synced again by itself.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "RefreshMode", rename_all = "lowercase")
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum Refresh {
    Off,
    Daily,
    Weekly,
}
names!(Refresh, "refresh" { Off => "off", Daily => "daily", Weekly => "weekly" });

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

/// Where a webhook delivery stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt at `next_attempt_at`.
    Pending,
    /// Being attempted.
    Delivering,
    Succeeded,
    /// Out of retries (or the endpoint is gone); replay it with `POST .../retry`.
    Failed,
}
names!(DeliveryStatus, "status" { Pending => "pending", Delivering => "delivering", Succeeded => "succeeded", Failed => "failed" });

/// Where a connected Shopify shop stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum ShopStatus {
    Active,
    Uninstalled,
}
names!(ShopStatus, "status" { Active => "active", Uninstalled => "uninstalled" });

/// A queued job's state (a job that is done is deleted).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    /// Out of attempts: kept for inspection, never run again.
    Dead,
}
names!(JobStatus, "status" { Queued => "queued", Dead => "dead" });

/// The kind of a background job (the `kind` tag of its JSON payload).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    PurgeAgent,
    SyncSource,
    PurgeSource,
    HandoffEmail,
    DeliverWebhook,
    ClassifySentiment,
    ShopifyProduct,
    LimitEmail,
}
names!(JobKind, "kind" {
    PurgeAgent => "purge_agent",
    SyncSource => "sync_source",
    PurgeSource => "purge_source",
    HandoffEmail => "handoff_email",
    DeliverWebhook => "deliver_webhook",
    ClassifySentiment => "classify_sentiment",
    ShopifyProduct => "shopify_product",
    LimitEmail => "limit_email",
});

/// An event a webhook endpoint can receive.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EventName {
    /// A lead was captured (the reference's payload).
    #[cfg_attr(feature = "openapi", oai(rename = "lead.captured"))]
    #[sea_orm(string_value = "lead.captured")]
    #[serde(rename = "lead.captured")]
    LeadCaptured,
    /// Sent by `POST /webhook/test`.
    #[cfg_attr(feature = "openapi", oai(rename = "webhook.test"))]
    #[sea_orm(string_value = "webhook.test")]
    #[serde(rename = "webhook.test")]
    WebhookTest,
}
names!(EventName, "event" { LeadCaptured => "lead.captured", WebhookTest => "webhook.test" });

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

/// What a member of an account may do in the console.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "lowercase"
)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Everything, including the plan, API keys and deleting the account.
    Owner,
    /// Everything but the plan, API keys and deleting the account.
    Admin,
    /// The inbox and the leads.
    Agent,
}
names!(MemberRole, "role" { Owner => "owner", Admin => "admin", Agent => "agent" });

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

//! The widget settings of an agent as the API shows and takes them, and its embed code.

use otoq_core::agents::WidgetSettings;
use otoq_entities::agents::Model;
pub use otoq_entities::enums::LeadFormTrigger;
use poem_openapi::{Enum, Object};

/// A field of the widget's lead form.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum LeadField {
    Name,
    Email,
    Phone,
    Company,
}

impl LeadField {
    fn as_str(self) -> &'static str {
        match self {
            LeadField::Name => "name",
            LeadField::Email => "email",
            LeadField::Phone => "phone",
            LeadField::Company => "company",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "name" => LeadField::Name,
            "email" => LeadField::Email,
            "phone" => LeadField::Phone,
            "company" => LeadField::Company,
            _ => return None,
        })
    }
}

/// The stored lead-form fields as the API shows them.
pub fn fields(m: &Model) -> Vec<LeadField> {
    otoq_core::agents::lead_form_fields(m)
        .iter()
        .filter_map(|f| LeadField::parse(f))
        .collect()
}

/// Widget settings given to create or update an agent.
pub fn settings(
    fields: Option<Vec<LeadField>>,
    trigger: Option<LeadFormTrigger>,
    after: Option<i32>,
    cap: Option<i32>,
) -> WidgetSettings {
    WidgetSettings {
        lead_form_fields: fields.map(|f| f.iter().map(|x| x.as_str().to_string()).collect()),
        lead_form_trigger: trigger,
        lead_form_after_messages: after,
        daily_message_cap: cap,
    }
}

/// How to put an agent's chat widget on a site.
#[derive(Object)]
pub struct EmbedCode {
    /// The agent's public id (safe to publish; it grants no API access).
    pub public_id: String,
    /// One line for the page's HTML: a launcher bubble and chat panel (recommended).
    pub script: String,
    /// The same chat in an iframe, for sites that cannot add scripts.
    pub iframe: String,
    /// The widget script's URL.
    pub widget_url: String,
}

/// The snippets for `public_id` on the deployment at `base`.
pub fn embed(base: &str, public_id: &str) -> EmbedCode {
    let widget_url = format!("{base}/widget.js");
    EmbedCode {
        public_id: public_id.to_string(),
        script: format!(r#"<script src="{widget_url}" data-agent="{public_id}" async></script>"#),
        iframe: format!(
            r#"<iframe src="{base}/widget/v1/{public_id}/frame" title="Chat" style="position:fixed;right:0;bottom:0;width:420px;max-width:100%;height:640px;max-height:100%;border:0;z-index:2147483000" loading="lazy"></iframe>"#
        ),
        widget_url,
    }
}

//! Outgoing email over SMTP (lettre): the handoff notification to the account owner.

use anyhow::Context as _;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::SmtpConfig;
use otoq_entities::enums::Role;
use otoq_entities::{agents, conversations, messages};

/// Sends mail through the configured SMTP server (connections are pooled).
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `cfg`; fails on an unusable URL or sender address.
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.url)
            .context("OTOQ_SMTP_URL is not a valid SMTP URL (smtp://host:port, smtps://...)")?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from = cfg
            .from
            .parse()
            .with_context(|| format!("OTOQ_SMTP_FROM={:?} is not an email address", cfg.from))?;
        Ok(Mailer { transport, from })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        let to: Mailbox = to
            .parse()
            .with_context(|| format!("{to:?} is not an email address"))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .context("building the email")?;
        self.transport
            .send(msg)
            .await
            .context("the SMTP server refused the email")?;
        Ok(())
    }
}

/// Subject and body of the email telling the owner a visitor asked for a person.
pub fn handoff_email(
    agent: &agents::Model,
    conv: &conversations::Model,
    transcript: &[messages::Model],
    public_url: &str,
) -> (String, String) {
    let subject = format!("{}: a visitor asked to talk to a person", agent.name);
    let mut body = format!(
        "A visitor of your agent \"{}\" asked to be connected with a person.\n\n\
         Conversation: {}\nStarted: {}\nSentiment: {}\n\nTranscript:\n\n",
        agent.name,
        conv.id,
        conv.created_at.format("%Y-%m-%d %H:%M UTC"),
        conv.sentiment,
    );
    for m in transcript {
        let who = match m.role {
            Role::User => "Visitor",
            Role::Assistant => "Agent",
            Role::System => "Notice",
        };
        body.push_str(&format!(
            "[{}] {who}: {}\n\n",
            m.created_at.format("%H:%M"),
            m.content.trim()
        ));
    }
    body.push_str(&format!(
        "Open the conversation: {public_url}/api/v1/conversations/{}\n\n\
         The AI stays silent in this conversation until you take over.\n",
        conv.id
    ));
    (subject, body)
}

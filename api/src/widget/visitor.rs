//! Visitor tokens: the server issues each visitor a random UUID, sealed (authenticated
//! encryption with the deployment's key) together with the agent's public id and the client
//! address it was issued to, so a forged, borrowed or carried-off token is refused.

use otoq_core::Context;
use uuid::Uuid;

/// Header the widget sends its visitor token in.
pub const HEADER: &str = "x-otoq-visitor";

/// What a presented token turned out to be.
pub enum Verified {
    /// A visitor of this agent, from the address the token was issued to.
    Visitor(Uuid),
    /// Forged, altered or another agent's.
    Invalid,
    /// Genuine, but issued to another client address.
    OtherAddress,
}

/// A new visitor of the agent `public_id` at client address `ip`: its id and token.
pub async fn issue(ctx: &Context, public_id: &str, ip: &str) -> anyhow::Result<(Uuid, String)> {
    let id = Uuid::new_v4();
    let sealed = ctx
        .secret_box()
        .await?
        .seal(&format!("{public_id}|{id}|{ip}"));
    // `v1:` + standard base64; the widget stores it as it is.
    Ok((id, sealed))
}

/// Checks a token presented for `public_id` from client address `ip`.
pub async fn verify(
    ctx: &Context,
    public_id: &str,
    token: &str,
    ip: &str,
) -> anyhow::Result<Verified> {
    if token.len() > 512 {
        return Ok(Verified::Invalid);
    }
    let Ok(plain) = ctx.secret_box().await?.open(token) else {
        return Ok(Verified::Invalid);
    };
    let mut parts = plain.splitn(3, '|');
    let (Some(agent), Some(id)) = (parts.next(), parts.next()) else {
        return Ok(Verified::Invalid);
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(Verified::Invalid);
    };
    if agent != public_id {
        return Ok(Verified::Invalid);
    }
    Ok(match parts.next() {
        Some(bound) if bound != ip => Verified::OtherAddress,
        _ => Verified::Visitor(id),
    })
}

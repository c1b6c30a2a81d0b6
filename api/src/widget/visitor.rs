//! Visitor tokens: the server issues each visitor a random UUID, sealed (authenticated
//! encryption with the deployment's key) together with the agent's public id, the client
//! address it was issued to and when, so a forged, borrowed, carried-off or stale token is
//! refused.
//!
//! A token lives [`LIFETIME`] (30 days) from its issue. It slides: a token used within
//! [`RENEW_WITHIN`] (7 days) of its end is answered with a fresh one for the same visitor in the
//! response header `X-Otoq-Visitor`, which the widget stores in place of the old one. A visitor
//! who comes back within 30 days keeps their conversations; one who does not gets a 401
//! `invalid_visitor` and asks for a new token.

use std::time::Duration;

use otoq_core::Context;
use uuid::Uuid;

/// Header the widget sends its visitor token in (and a renewed token comes back in).
pub const HEADER: &str = "x-otoq-visitor";
/// How long a token is accepted after it was issued.
pub const LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// A token used this close to its end is renewed.
pub const RENEW_WITHIN: Duration = Duration::from_secs(7 * 86_400);

/// What a presented token turned out to be.
pub enum Verified {
    /// A visitor of this agent, from the address the token was issued to; with a renewed token
    /// when the presented one is near its end.
    Visitor { id: Uuid, renewed: Option<String> },
    /// Forged, altered, another agent's or older than [`LIFETIME`].
    Invalid,
    /// Genuine, but issued to another client address.
    OtherAddress,
}

fn now_secs() -> i64 {
    otoq_core::clock::now().timestamp()
}

async fn seal(ctx: &Context, public_id: &str, id: Uuid, ip: &str) -> anyhow::Result<String> {
    let issued = now_secs();
    // `v1:` + standard base64; the widget stores it as it is.
    Ok(ctx
        .secret_box()
        .await?
        .seal(&format!("{public_id}|{id}|{ip}|{issued}")))
}

/// A new visitor of the agent `public_id` at client address `ip`: its id and token.
pub async fn issue(ctx: &Context, public_id: &str, ip: &str) -> anyhow::Result<(Uuid, String)> {
    let id = Uuid::new_v4();
    Ok((id, seal(ctx, public_id, id, ip).await?))
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
    // Tokens from before expiry existed have no issue time: they are stale.
    let [agent, id, bound, issued] = plain.splitn(4, '|').collect::<Vec<_>>()[..] else {
        return Ok(Verified::Invalid);
    };
    let (Ok(id), Ok(issued)) = (Uuid::parse_str(id), issued.parse::<i64>()) else {
        return Ok(Verified::Invalid);
    };
    if agent != public_id {
        return Ok(Verified::Invalid);
    }
    let age = now_secs().saturating_sub(issued);
    // A few minutes of clock skew between processes are forgiven.
    if age < -300 || age >= LIFETIME.as_secs() as i64 {
        return Ok(Verified::Invalid);
    }
    if bound != ip {
        return Ok(Verified::OtherAddress);
    }
    let renewed = if age >= (LIFETIME - RENEW_WITHIN).as_secs() as i64 {
        Some(seal(ctx, public_id, id, ip).await?)
    } else {
        None
    };
    Ok(Verified::Visitor { id, renewed })
}

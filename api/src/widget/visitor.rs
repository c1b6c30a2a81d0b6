//! Visitor tokens: the server issues each visitor a random UUID, sealed (authenticated
//! encryption with the deployment's key) together with the agent's public id, so a forged or
//! borrowed token is refused.

use otoq_core::Context;
use uuid::Uuid;

/// Header the widget sends its visitor token in.
pub const HEADER: &str = "x-otoq-visitor";

/// A new visitor of the agent `public_id`: its id and token.
pub async fn issue(ctx: &Context, public_id: &str) -> anyhow::Result<(Uuid, String)> {
    let id = Uuid::new_v4();
    let sealed = ctx.secret_box().await?.seal(&format!("{public_id}|{id}"));
    // `v1:` + standard base64; the widget stores it as it is.
    Ok((id, sealed))
}

/// The visitor id of a token issued for `public_id`, or `None` if it is forged, altered or
/// issued for another agent.
pub async fn verify(ctx: &Context, public_id: &str, token: &str) -> anyhow::Result<Option<Uuid>> {
    if token.len() > 512 {
        return Ok(None);
    }
    let Ok(plain) = ctx.secret_box().await?.open(token) else {
        return Ok(None);
    };
    Ok(plain
        .split_once('|')
        .filter(|(p, _)| *p == public_id)
        .and_then(|(_, id)| Uuid::parse_str(id).ok()))
}

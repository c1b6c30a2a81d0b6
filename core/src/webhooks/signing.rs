//! Webhook secrets, event ids and the two signature schemes sent with every delivery:
//! GitHub-style `X-Hub-Signature-256` and Standard Webhooks `webhook-signature`.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::secrets::random_base62;

type HmacSha256 = Hmac<Sha256>;

/// Prefix of webhook secrets shown to owners.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: "whsec_" + base64 (standard alphabet, with padding) of 24 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// GitHub-style header value: "sha256=" + lowercase hex HMAC-SHA256 of `body`, keyed by the whole secret text.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = mac_for(secret.as_bytes());
    mac.update(body);
    format!("sha256={}", to_hex(&mac.finalize().into_bytes()))
}

/// Standard Webhooks signature "v1,<base64>" over "{msg_id}.{timestamp}.{body}", keyed by the decoded secret.
pub fn standard_signature(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> anyhow::Result<String> {
    let key = standard_key(secret)?;
    let mut mac = mac_for(&key);
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Verifies a GitHub-style header value in constant time (for tests and for documentation of receivers).
pub fn verify_github(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(tag) = header.trim().strip_prefix("sha256=").and_then(from_hex) else {
        return false;
    };
    let mut mac = mac_for(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// A new event id: "evt_" + 24 random base62 characters.
pub fn new_event_id() -> String {
    format!("evt_{}", random_base62(24))
}

fn mac_for(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// The HMAC key of a Standard Webhooks secret: the base64 text after "whsec_", decoded.
fn standard_key(secret: &str) -> anyhow::Result<Vec<u8>> {
    let Some(encoded) = secret.strip_prefix(SECRET_PREFIX) else {
        bail!("webhook secret must start with {SECRET_PREFIX}");
    };
    // The reference libraries also accept unpadded secrets, so we do too.
    let key = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .context("webhook secret is not valid base64 after whsec_")?;
    if key.is_empty() {
        bail!("webhook secret is empty");
    }
    Ok(key)
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

/// Bytes of a hex string (either case); `None` if it is not hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known-answer values computed independently with Python's hmac/hashlib.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"type":"lead.captured","data":{"email":"ada@example.com"}}"#;

    #[test]
    fn github_signature_matches_known_answer() {
        assert_eq!(
            github_signature(SECRET, BODY),
            "sha256=f634d8cc1e68d2e819becd8955bf7dd80312ad46739d24b20c3dc10dd3b44ada"
        );
        assert_eq!(
            github_signature(SECRET, b""),
            "sha256=da5f5865984e699a69cfec62ce49a76daf8ae4601b54a781fa13f3b2d3b2088a"
        );
    }

    #[test]
    fn standard_signature_matches_spec_vector() {
        let sig = standard_signature(
            SECRET,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn standard_signature_rejects_malformed_secrets() {
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64!",
            "whsec_",
        ] {
            assert!(standard_signature(bad, "msg_1", 1, b"{}").is_err(), "{bad}");
        }
    }

    #[test]
    fn verify_github_accepts_own_signature_only() {
        let header = github_signature(SECRET, BODY);
        assert!(verify_github(SECRET, BODY, &header));
        assert!(verify_github(
            SECRET,
            BODY,
            &header.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify_github("whsec_other", BODY, &header));
        assert!(!verify_github(
            SECRET,
            br#"{"type":"lead.captured"}"#,
            &header
        ));
        assert!(!verify_github(
            SECRET,
            BODY,
            header.trim_start_matches("sha256=")
        ));
        assert!(!verify_github(SECRET, BODY, "sha256=zz"));
        assert!(!verify_github(SECRET, BODY, &header[..header.len() - 2]));
    }

    #[test]
    fn new_secret_is_prefixed_and_usable_for_standard_signatures() {
        let secret = new_secret();
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 24);
        let sig = standard_signature(&secret, "msg_1", 1_700_000_000, BODY).unwrap();
        assert!(sig.starts_with("v1,"));
        assert_eq!(STANDARD.decode(&sig[3..]).unwrap().len(), 32);
        assert_ne!(secret, new_secret());
    }

    #[test]
    fn event_ids_are_prefixed_and_unique() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_event_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let rest = id.strip_prefix("evt_").unwrap();
            assert_eq!(rest.len(), 24);
            assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }
}

//! Shopify's two HMACs: hex HMAC-SHA256 over the sorted query of an OAuth redirect, and
//! base64 HMAC-SHA256 over a webhook's raw body; both keyed by the app's secret and compared
//! in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::webhooks::signing::{from_hex, to_hex};

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
}

/// The signed message of a query: every parameter but `hmac` and `signature`, repeated names
/// joined by commas, sorted by name and form-urlencoded — spaces as `%20`, as Shopify's own
/// library writes them (`URLSearchParams`, then `+` → `%20`); `plus_spaces` keeps `+`.
pub fn query_message(params: &[(String, String)], plus_spaces: bool) -> String {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (k, v) in params {
        if k == "hmac" || k == "signature" {
            continue;
        }
        match merged.iter_mut().find(|(name, _)| name == k) {
            Some((_, value)) => {
                value.push(',');
                value.push_str(v);
            }
            None => merged.push((k.clone(), v.clone())),
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(merged)
        .finish();
    // The serializer writes a space as `+` and a literal plus as `%2B`, so every `+` is a space.
    if plus_spaces {
        encoded
    } else {
        encoded.replace('+', "%20")
    }
}

/// The hex HMAC of a query, as Shopify computes it.
pub fn sign_query(secret: &str, params: &[(String, String)]) -> String {
    let mut m = mac(secret);
    m.update(query_message(params, false).as_bytes());
    to_hex(&m.finalize().into_bytes())
}

/// Whether the query's `hmac` parameter signs the rest of it (constant-time comparison).
pub fn verify_query(secret: &str, params: &[(String, String)]) -> bool {
    let given: Vec<&String> = params
        .iter()
        .filter(|(k, _)| k == "hmac")
        .map(|(_, v)| v)
        .collect();
    let [given] = given.as_slice() else {
        return false;
    };
    let Some(tag) = from_hex(given.trim()) else {
        return false;
    };
    // Shopify's library signs with `%20` for spaces; accept the `+` form of the same message too.
    [false, true].into_iter().any(|plus| {
        let mut m = mac(secret);
        m.update(query_message(params, plus).as_bytes());
        m.verify_slice(&tag).is_ok()
    })
}

/// The base64 HMAC of a webhook body (`X-Shopify-Hmac-Sha256`).
pub fn sign_body(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    STANDARD.encode(m.finalize().into_bytes())
}

/// Whether `header` is the base64 HMAC of `body` (constant-time comparison).
pub fn verify_body(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(tag) = STANDARD.decode(header.trim()) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(body);
    m.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn shopify_documented_example() {
        // The example of Shopify's OAuth documentation ("Verify a request").
        let params = q(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            (
                "hmac",
                "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
            ),
            ("shop", "some-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
            ("timestamp", "1337178173"),
        ]);
        assert_eq!(
            query_message(&params, false),
            "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
        );
        assert!(verify_query("hush", &params));
        assert!(!verify_query("other", &params));
    }

    #[test]
    fn query_is_sorted_encoded_and_tamper_evident() {
        let mut params = q(&[("shop", "a.myshopify.com"), ("b", "x y&z=+"), ("a", "1")]);
        assert_eq!(
            query_message(&params, false),
            "a=1&b=x%20y%26z%3D%2B&shop=a.myshopify.com"
        );
        let sig = sign_query("s", &params);
        params.push(("hmac".into(), sig.clone()));
        assert!(verify_query("s", &params));
        params[0].1 = "b.myshopify.com".into();
        assert!(!verify_query("s", &params));
        assert!(!verify_query("s", &q(&[("hmac", "zz")])));
        assert!(!verify_query("s", &q(&[("a", "1")])));
        let twice = q(&[("a", "1"), ("hmac", &sig), ("hmac", &sig)]);
        assert!(!verify_query("s", &twice));
    }

    #[test]
    fn bodies() {
        let sig = sign_body("secret", b"{\"id\":1}");
        assert!(verify_body("secret", b"{\"id\":1}", &sig));
        assert!(!verify_body("secret", b"{\"id\":2}", &sig));
        assert!(!verify_body("other", b"{\"id\":1}", &sig));
        assert!(!verify_body("secret", b"{\"id\":1}", "not base64!"));
    }
}

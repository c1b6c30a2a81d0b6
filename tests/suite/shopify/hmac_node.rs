//! Our HMACs checked by Shopify's own Node library.

use chrono::Utc;
use serde_json::{Value, json};

use crate::support::shopify::SHOP;

/// Our OAuth query HMAC and webhook HMAC, checked by Shopify's own library
/// (`@shopify/shopify-api`, pinned in tests/shopify-node/package-lock.json) running offline.
#[tokio::test]
async fn shopify_hmacs_match_shopifys_library() {
    use otoq_core::shopify::hmac::{sign_body, sign_query, verify_body, verify_query};
    let dir = format!("{}/tests/shopify-node", env!("CARGO_MANIFEST_DIR"));
    assert!(
        std::path::Path::new(&format!("{dir}/node_modules/@shopify/shopify-api")).exists(),
        "run `npm ci` in tests/shopify-node (scripts/test.sh does)"
    );
    let secret = "shpss_0123456789abcdef";
    let ts = Utc::now().timestamp().to_string();
    // Values that need escaping: spaces, &, =, +, %, a slash, non-ASCII, base64 padding.
    let mut params: Vec<(String, String)> = [
        ("shop", SHOP),
        ("timestamp", ts.as_str()),
        ("code", "a b&c=d+e%f/g"),
        ("state", "naïve state ü"),
        ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw=="),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let hmac = sign_query(secret, &params);
    params.push(("hmac".into(), hmac));
    assert!(verify_query(secret, &params));
    let body = r#"{"id":1,"title":"Caf\u00e9 & Tea","body_html":"<p>naïve</p>"}"#;
    let run = |query: Vec<(String, String)>, body_hmac: String| {
        let query: serde_json::Map<String, Value> = query
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let input = json!({"secret": secret, "query": query, "body": body, "body_hmac": body_hmac});
        let dir = dir.clone();
        async move {
            let mut child = tokio::process::Command::new("node")
                .arg("hmac.mjs")
                .current_dir(&dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("node runs");
            use tokio::io::AsyncWriteExt;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.to_string().as_bytes()).await.unwrap();
            drop(stdin);
            let out = child.wait_with_output().await.unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        }
    };
    let out = run(params.clone(), sign_body(secret, body.as_bytes())).await;
    assert_eq!(out["query_valid"], true, "{out}");
    assert_eq!(out["webhook_valid"], true, "{out}");
    // Shopify's library signs the body as we verify it.
    let theirs = out["body_hmac"].as_str().unwrap();
    assert_eq!(theirs, sign_body(secret, body.as_bytes()));
    assert!(verify_body(secret, body.as_bytes(), theirs));
    // And it refuses what we refuse: a changed parameter, a changed body signature.
    let mut tampered = params.clone();
    tampered[2].1.push('x');
    assert!(!verify_query(secret, &tampered));
    let out = run(tampered, sign_body("other", body.as_bytes())).await;
    assert_eq!(out["query_valid"], false, "{out}");
    assert_eq!(out["webhook_valid"], false, "{out}");
}

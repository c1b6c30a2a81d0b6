//! Shopify's single-query cost limit (1,000 points): every catalog query stays within it (the
//! fake refuses over-cost queries with Shopify's error), a product with more variants and
//! media than one page holds is read whole; a 401 refreshes the token once before giving up.

use serde_json::json;

use super::env::setup;
use crate::both_backends;
use crate::support::Backend;
use crate::support::shopify::product;

both_backends!(
    shopify_queries_stay_within_the_cost_limit,
    shopify_401_refreshes_the_token_once
);

async fn shopify_queries_stay_within_the_cost_limit(b: Backend) {
    let env = setup(b).await;
    let mut big = product(8, "Expedition Pack", "300.00", "<p>The biggest pack.</p>");
    big["variants"]["nodes"] = json!(
        (0..100)
            .map(|i| json!({"title": format!("Size {i}"), "sku": format!("EXP-{i}"), "price": "300.00",
                "availableForSale": true, "inventoryQuantity": 3,
                "selectedOptions": [{"name": "Size", "value": format!("{i}")}]}))
            .collect::<Vec<_>>()
    );
    big["media"]["nodes"] = json!(
        (0..15)
            .map(|i| json!({"alt": format!("view {i}"),
                "image": {"url": format!("https://cdn.example.com/exp-{i}.jpg"), "altText": format!("view {i}")}}))
            .collect::<Vec<_>>()
    );
    let mut products = super::env::catalog();
    products.push(big);
    env.fake.set_products(products);
    let source_id = env.install().await;
    let calls = env.fake.graphql_calls();
    assert!(!calls.is_empty());
    for c in &calls {
        assert!(
            c.cost <= 1000,
            "a query of cost {} was sent: {}",
            c.cost,
            c.query
        );
    }
    let text: String = env
        .active_chunks(&source_id)
        .await
        .into_iter()
        .map(|(_, _, t)| t)
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "SKU EXP-0;",
        "SKU EXP-31;",
        "SKU EXP-32;",
        "SKU EXP-99;",
        "exp-0.jpg",
        "exp-14.jpg",
    ] {
        assert!(text.contains(needle), "{needle} indexed");
    }
    assert!(text.contains("Trailblazer Backpack"));
    // The fake refuses what Shopify refuses, with Shopify's message.
    let client = reqwest::Client::new();
    let token = env.fake.issued_tokens().last().unwrap().clone();
    let over: serde_json::Value = client
        .post(format!("{}/{}/admin/api/2026-10/graphql.json", env.fake.base, crate::support::shopify::SHOP))
        .header("x-shopify-access-token", token)
        .json(&json!({"query": "query { products(first: 10) { nodes { id variants(first: 64) { nodes { sku selectedOptions { name } } } } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        over["errors"][0]["message"],
        "Query cost is 1312, which exceeds the single query max cost limit (1000).",
        "{over}"
    );
}

async fn shopify_401_refreshes_the_token_once(b: Backend) {
    let env = setup(b).await;
    let source_id = env.install().await;
    let refreshes = |env: &super::env::Env| {
        env.fake
            .token_requests()
            .iter()
            .filter(|r| r["grant_type"] == "refresh_token")
            .count()
    };
    assert_eq!(refreshes(&env), 0);
    // The shop revokes the access token early: the stored expiry still says it is fresh.
    env.fake.revoke_access_tokens();
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    assert_eq!(refreshes(&env), 1, "one refresh");
    let statuses: Vec<u16> = env.fake.graphql_calls().iter().map(|c| c.status).collect();
    assert!(statuses.contains(&401), "{statuses:?}");
    assert_eq!(*statuses.last().unwrap(), 200, "{statuses:?}");
    // A shop whose refresh fails too gives up with the reinstall advice, after one refresh.
    env.fake.revoke_access_tokens();
    env.fake.revoke_refresh_tokens();
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "failed", "{s}");
    assert!(s["error"].as_str().unwrap().contains("install"), "{s}");
    assert_eq!(refreshes(&env), 2, "one more refresh attempt, not a loop");
}

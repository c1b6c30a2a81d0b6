//! Install → catalog synced over throttled pages → chat cites the product; incremental re-sync.

use chrono::{Duration, Utc};
use otoq_entities::chunks;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::env::{catalog, gid, setup_with};
use crate::both_backends;
use crate::support::Backend;
use crate::support::shopify::{CLIENT_ID, SHOP, Throttle};

both_backends!(shopify_install_sync_and_chat);

async fn shopify_install_sync_and_chat(b: Backend) {
    // Products are embedded like any source: the chat below searches vectors and keywords.
    let env = setup_with(b, true).await;
    // One page is answered 429 with Retry-After, another with a THROTTLED GraphQL error.
    env.fake.throttle([Throttle::Http429(1), Throttle::Graphql]);
    let (status, location, body) = env.start_install(SHOP, &env.agent_id, &env.key).await;
    assert_eq!(status, 302, "{body}");
    let auth = url::Url::parse(&location).unwrap();
    assert_eq!(
        auth.path(),
        format!("/{SHOP}/admin/oauth/authorize"),
        "{location}"
    );
    let q: std::collections::HashMap<String, String> = auth.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["scope"], "read_products");
    assert!(
        q["redirect_uri"].ends_with("/shopify/callback"),
        "{location}"
    );
    assert!(q["state"].len() >= 32);

    let query = env.authorize(&location).await;
    let r = env.callback(&query).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["shop"], SHOP);
    let source_id = r.body["data"]["source_id"].as_str().unwrap().to_string();
    // The code was exchanged for an expiring offline token.
    let exchange = &env.fake.token_requests()[0];
    assert_eq!(exchange["expiring"], 1, "{exchange}");

    // Tokens are stored sealed: the row holds ciphertext, which opens to the issued token.
    let row = env.shop_row().await.expect("shop stored");
    let issued = env.fake.issued_tokens()[0].clone();
    let sealed = row.access_token_enc.clone().unwrap();
    assert!(
        !sealed.contains(&issued) && sealed.starts_with("v1:"),
        "{sealed}"
    );
    let sbox = env.app.ctx().secret_box().await.unwrap();
    assert_eq!(sbox.open(&sealed).unwrap(), issued);
    let refresh = row.refresh_token_enc.clone().unwrap();
    assert!(!refresh.contains("shprt_"));
    assert!(row.access_token_expires_at.unwrap() > Utc::now() + Duration::minutes(50));

    let s = env.app.settled_source(&env.key, &source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    assert_eq!(s["type"], "shopify", "{s}");
    // Six active products over three pages, after one 429 and one THROTTLED answer.
    let calls = env.fake.graphql_calls();
    assert_eq!(calls.iter().filter(|c| c.throttled).count(), 2);
    // Retry-After: 1 was waited; the THROTTLED answer (50 of 100 points, 100/s) waited ~0.5 s.
    assert!(
        calls[1].at - calls[0].at >= std::time::Duration::from_millis(950),
        "{calls:?}"
    );
    assert!(
        calls[2].at - calls[1].at >= std::time::Duration::from_millis(450),
        "{calls:?}"
    );
    let served: Vec<&crate::support::shopify::GraphqlCall> = calls
        .iter()
        .filter(|c| c.status == 200 && !c.throttled)
        .collect();
    assert_eq!(served.len(), 3, "{calls:?}");
    assert_eq!(served[1].variables["after"], "cursor:2");
    assert_eq!(served[2].variables["after"], "cursor:4");
    assert!(served.iter().all(|c| c.token == issued && c.shop == SHOP));
    // The draft is not indexed.
    let keys = env.doc_keys(&source_id).await;
    assert_eq!(keys, (1..=6).map(gid).collect::<Vec<_>>());
    let sid: uuid::Uuid = source_id.parse().unwrap();
    let embedded = chunks::Entity::find()
        .filter(chunks::Column::SourceId.eq(sid))
        .filter(chunks::Column::Active.eq(true))
        .all(&env.app.ctx().db)
        .await
        .unwrap();
    assert!(
        embedded.iter().all(|c| c.embedding.is_some()),
        "every chunk is embedded"
    );

    let r = env
        .app
        .post(
            "/api/v1/chat",
            &env.key,
            json!({"agent_id": env.agent_id, "message": "How much does the Trailblazer Backpack cost?"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert!(d["response"].as_str().unwrap().contains("89.00"), "{d}");
    assert_eq!(d["sources"][0]["title"], "Trailblazer Backpack", "{d}");
    assert_eq!(
        d["sources"][0]["url"],
        format!("https://{SHOP}/products/trailblazer-backpack")
    );

    // A re-sync lists ids and `updatedAt` only, reads just the product that changed, embeds
    // nothing else again, and a product removed from the shop leaves.
    let before = env.active_chunks(&source_id).await;
    let calls = env.fake.graphql_calls().len();
    let mut products = catalog();
    products.remove(4);
    products[2]["updatedAt"] = json!((Utc::now() + Duration::seconds(1)).to_rfc3339());
    products[2]["priceRangeV2"]["minVariantPrice"]["amount"] = json!("119.00");
    products[2]["priceRangeV2"]["maxVariantPrice"]["amount"] = json!("119.00");
    env.fake.set_products(products);
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    let resync_calls = env.fake.graphql_calls()[calls..].to_vec();
    assert!(
        resync_calls
            .iter()
            .all(|c| !c.query.contains("descriptionHtml") || c.query.contains("nodes(ids:")),
        "no full listing: {resync_calls:?}"
    );
    let reads: Vec<&Value> = resync_calls
        .iter()
        .filter(|c| c.query.contains("nodes(ids:"))
        .map(|c| &c.variables["ids"])
        .collect();
    assert_eq!(
        reads,
        vec![&json!([gid(3)])],
        "only the changed product is read"
    );
    let after = env.active_chunks(&source_id).await;
    let others = |v: &[(String, String, String)]| -> Vec<(String, String, String)> {
        let mut o: Vec<_> = v
            .iter()
            .filter(|(k, _, _)| *k != gid(3) && *k != gid(5))
            .cloned()
            .collect();
        o.sort();
        o
    };
    assert_eq!(
        others(&after),
        others(&before),
        "unchanged products keep their chunks"
    );
    assert!(
        after
            .iter()
            .any(|(k, _, t)| *k == gid(3) && t.contains("119.00"))
    );
    let keys = env.doc_keys(&source_id).await;
    assert_eq!(keys, [1, 2, 3, 4, 6].map(gid).to_vec());
}

//! Webhooks from Shopify: signatures, live product changes, uninstall and the compliance topics.

use otoq_entities::documents;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::env::{gid, setup};
use crate::both_backends;
use crate::support::shopify::{CLIENT_SECRET, SHOP};
use crate::support::{Backend, Reply, eventually};

both_backends!(
    shopify_product_webhooks_reindex_one_product,
    shopify_uninstall_stops_syncing_and_redact_deletes
);

async fn shopify_product_webhooks_reindex_one_product(b: Backend) {
    let env = setup(b).await;
    let source_id = env.install().await;
    let before = env.active_chunks(&source_id).await;
    let update = json!({"id": 1, "admin_graphql_api_id": gid(1), "title": "Trailblazer Backpack"});

    // A bad signature: 401, and nothing changes.
    env.fake.edit_product(1, |p| {
        p["priceRangeV2"]["minVariantPrice"]["amount"] = json!("79.00");
        p["priceRangeV2"]["maxVariantPrice"]["amount"] = json!("79.00");
        p["variants"]["nodes"][0]["price"] = json!("79.00");
    });
    let calls = env.fake.graphql_calls().len();
    let r = env
        .webhook("products/update", &update, "not-the-secret", "w-1")
        .await;
    r.assert_error(401, "unauthorized");
    let r = env
        .app
        .client
        .post(format!("{}/shopify/webhooks", env.app.base))
        .header("x-shopify-topic", "products/update")
        .header("x-shopify-shop-domain", SHOP)
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    Reply::from(r).await.assert_error(401, "unauthorized");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(env.active_chunks(&source_id).await, before);
    assert_eq!(env.fake.graphql_calls().len(), calls);

    // A genuine update re-indexes that product only, fetched by id.
    let r = env
        .webhook("products/update", &update, CLIENT_SECRET, "w-2")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        eventually(30, || async {
            env.active_chunks(&source_id)
                .await
                .iter()
                .any(|(k, _, t)| *k == gid(1) && t.contains("79.00"))
        })
        .await,
        "the product was re-indexed"
    );
    let after = env.active_chunks(&source_id).await;
    let others = |v: &[(String, String, String)]| -> Vec<(String, String, String)> {
        v.iter().filter(|(k, _, _)| *k != gid(1)).cloned().collect()
    };
    assert_eq!(others(&after), others(&before), "other products untouched");
    assert!(
        !after
            .iter()
            .any(|(k, _, t)| *k == gid(1) && t.contains("89.00"))
    );
    let new_calls = &env.fake.graphql_calls()[calls..];
    assert_eq!(new_calls.len(), 1, "{new_calls:?}");
    assert!(new_calls[0].query.contains("product(id:"));
    assert_eq!(new_calls[0].variables["id"], gid(1));
    // Delivered again (same webhook id): nothing is done twice.
    let r = env
        .webhook("products/update", &update, CLIENT_SECRET, "w-2")
        .await;
    assert_eq!(r.body["outcome"], "duplicate", "{}", r.body);

    // A deleted product leaves the index.
    let r = env
        .webhook("products/delete", &json!({"id": 2}), CLIENT_SECRET, "w-3")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        eventually(30, || async {
            !env.doc_keys(&source_id).await.contains(&gid(2))
        })
        .await,
        "deleted product removed"
    );
    assert_eq!(env.doc_keys(&source_id).await.len(), 5);
}

async fn shopify_uninstall_stops_syncing_and_redact_deletes(b: Backend) {
    let env = setup(b).await;
    let source_id = env.install().await;
    let db = &env.app.ctx().db;
    // A lead of a customer the shop will ask us to redact.
    let r = env
        .app
        .post(
            "/api/v1/leads",
            &env.key,
            json!({"agent_id": env.agent_id, "email": "ana@example.com", "name": "Ana", "source": "api"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = env
        .webhook(
            "app/uninstalled",
            &json!({"id": 1, "domain": SHOP}),
            CLIENT_SECRET,
            "u-1",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let row = env.shop_row().await.unwrap();
    assert_eq!(row.status, otoq_entities::enums::ShopStatus::Uninstalled);
    assert!(row.access_token_enc.is_none() && row.refresh_token_enc.is_none());
    let s = env
        .app
        .get(&format!("/api/v1/sources/{source_id}"), &env.key)
        .await;
    assert_eq!(s.body["data"]["refresh"], "off", "{}", s.body);
    assert!(
        s.body["data"]["error"]
            .as_str()
            .unwrap()
            .contains("uninstalled"),
        "{}",
        s.body
    );
    let calls = env.fake.graphql_calls().len();
    // No sync runs any more: a re-sync fails with a reason, product webhooks are ignored.
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "failed", "{s}");
    assert!(s["error"].as_str().unwrap().contains("install"), "{s}");
    let r = env
        .webhook("products/update", &json!({"id": 1}), CLIENT_SECRET, "u-2")
        .await;
    assert_eq!(r.body["outcome"], "ignored", "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        env.fake.graphql_calls().len(),
        calls,
        "Shopify is not called again"
    );

    // Compliance topics: answered 200; customer redact deletes that customer's lead.
    let r = env
        .webhook(
            "customers/data_request",
            &json!({"shop_domain": SHOP, "customer": {"id": 9, "email": "ana@example.com"}}),
            CLIENT_SECRET,
            "c-1",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = env
        .webhook(
            "customers/redact",
            &json!({"shop_domain": SHOP, "customer": {"id": 9, "email": "ana@example.com"}}),
            CLIENT_SECRET,
            "c-2",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let leads = env.app.get("/api/v1/leads", &env.key).await;
    assert_eq!(leads.body["data"], json!([]), "{}", leads.body);

    // A forged shop/redact changes nothing.
    let redact = json!({"shop_id": 1, "shop_domain": SHOP});
    assert_eq!(env.doc_keys(&source_id).await.len(), 6);
    env.webhook("shop/redact", &redact, "wrong", "r-0")
        .await
        .assert_error(401, "unauthorized");
    assert!(env.shop_row().await.is_some());
    assert_eq!(env.doc_keys(&source_id).await.len(), 6);
    // shop/redact deletes everything of the shop.
    let r = env
        .webhook("shop/redact", &redact, CLIENT_SECRET, "r-1")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(env.shop_row().await.is_none());
    env.app
        .get(&format!("/api/v1/sources/{source_id}"), &env.key)
        .await
        .assert_error(404, "not_found");
    let sid: uuid::Uuid = source_id.parse().unwrap();
    assert!(
        eventually(30, || async {
            documents::Entity::find()
                .filter(documents::Column::SourceId.eq(sid))
                .all(db)
                .await
                .unwrap()
                .is_empty()
        })
        .await,
        "the shop's documents are purged"
    );
}

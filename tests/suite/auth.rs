//! Bearer keys, plans and revocation.

use otoq_core::plans::Plan;
use serde_json::json;

use crate::both_backends;
use crate::support::{Backend, spawn_app};

both_backends!(
    every_bad_key_is_401,
    plans_without_api_access_are_403,
    revoked_key_is_401_at_once,
    api_keys_lifecycle
);

async fn every_bad_key_is_401(b: Backend) {
    let app = spawn_app(b).await;
    let valid_shape_unknown = format!("otoq_{}", "A".repeat(43));
    for auth in [
        None,
        Some("Basic dXNlcjpwYXNz".to_string()),
        Some("Bearer".to_string()),
        Some("Bearer not-a-key".to_string()),
        Some(format!("Bearer {valid_shape_unknown}")),
        Some(format!("Token {valid_shape_unknown}")),
    ] {
        let mut req = app.client.get(format!("{}/api/v1/agents", app.base));
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        let r = crate::support::Reply::from(req.send().await.unwrap()).await;
        r.assert_error(401, "unauthorized");
        assert!(
            r.header("x-ratelimit-limit").is_some(),
            "rate-limit headers on 401 ({auth:?})"
        );
        assert!(r.header("x-request-id").is_some());
    }
}

async fn plans_without_api_access_are_403(b: Backend) {
    let app = spawn_app(b).await;
    for plan in [Plan::Free, Plan::Starter, Plan::Growth] {
        let (_, key) = app.account(plan).await;
        for (method, path) in [
            ("GET", "/api/v1/agents"),
            ("POST", "/api/v1/agents"),
            ("GET", "/api/v1/api-keys"),
        ] {
            let body = (method == "POST").then(|| json!({"name": "x"}));
            let r = app.call(method, path, Some(&key), body).await;
            let msg = r.assert_error(403, "forbidden");
            assert!(msg.contains(plan.as_str()), "{msg}");
            assert!(r.header("x-ratelimit-remaining").is_some());
        }
    }
    for plan in [Plan::Pro, Plan::Enterprise] {
        let (_, key) = app.account(plan).await;
        assert_eq!(app.get("/api/v1/agents", &key).await.status, 200, "{plan}");
    }
}

async fn revoked_key_is_401_at_once(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let second = app
        .post("/api/v1/api-keys", &key, json!({"name": "ci"}))
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let second_key = second.body["data"]["key"].as_str().unwrap().to_string();
    let second_id = second.body["data"]["id"].as_str().unwrap().to_string();
    // Warm the cache, then revoke: the next request must fail.
    assert_eq!(app.get("/api/v1/agents", &second_key).await.status, 200);
    let r = app
        .delete(&format!("/api/v1/api-keys/{second_id}"), &key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"success": true}));
    app.get("/api/v1/agents", &second_key)
        .await
        .assert_error(401, "unauthorized");
    // Revoking twice is a 404; the first key still works.
    app.delete(&format!("/api/v1/api-keys/{second_id}"), &key)
        .await
        .assert_error(404, "not_found");
    assert_eq!(app.get("/api/v1/agents", &key).await.status, 200);
}

async fn api_keys_lifecycle(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let created = app
        .post("/api/v1/api-keys", &key, json!({"name": "  deploy  "}))
        .await;
    assert_eq!(created.status, 201);
    let data = &created.body["data"];
    let plaintext = data["key"].as_str().unwrap();
    assert!(
        plaintext.starts_with("otoq_") && plaintext.len() == 48,
        "{plaintext}"
    );
    assert_eq!(data["name"], "deploy");
    assert!(plaintext.starts_with(data["prefix"].as_str().unwrap()));

    let list = app.get("/api/v1/api-keys", &key).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["meta"]["total"], 2);
    let items = list.body["data"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|k| k.get("key").is_none() && k.get("key_hash").is_none()),
        "no secrets in lists"
    );
    // The last use is recorded in the background.
    let recorded = crate::support::eventually(10, || async {
        let list = app.get("/api/v1/api-keys", &key).await;
        list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "default" && !k["last_used_at"].is_null())
    })
    .await;
    assert!(recorded, "last use recorded");

    // Only hashes are stored: the plaintext appears nowhere in the table.
    let rows = otoq_entities::api_keys::Entity::find_all(&app.ctx().db).await;
    assert!(
        rows.iter()
            .all(|r| r.key_hash != plaintext && r.key_hash.len() == 64)
    );

    app.post("/api/v1/api-keys", &key, json!({"name": ""}))
        .await
        .assert_error(400, "validation_error");
    app.post("/api/v1/api-keys", &key, json!({}))
        .await
        .assert_error(400, "validation_error");
}

trait FindAll {
    async fn find_all(db: &sea_orm::DatabaseConnection) -> Vec<otoq_entities::api_keys::Model>;
}

impl FindAll for otoq_entities::api_keys::Entity {
    async fn find_all(db: &sea_orm::DatabaseConnection) -> Vec<otoq_entities::api_keys::Model> {
        use sea_orm::EntityTrait;
        otoq_entities::api_keys::Entity::find()
            .all(db)
            .await
            .unwrap()
    }
}

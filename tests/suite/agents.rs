//! Agents: CRUD, validation, pagination and the background purge.

use sea_orm::EntityTrait;
use serde_json::json;

use crate::both_backends;
use crate::support::{Backend, eventually, spawn_app};

both_backends!(
    agent_crud,
    agent_validation_names_the_field,
    agent_pagination,
    delete_answers_at_once_and_purges
);

async fn agent_crud(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let r = app
        .post(
            "/api/v1/agents",
            &key,
            json!({"name": "Support Bot", "personality": "friendly", "primary_color": "#FF0000",
                   "system_prompt": "Be brief.", "language": "en", "welcome_message": "Hi!",
                   "allowed_origins": ["https://Shop.example.com/"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let a = &r.body["data"];
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["name"], "Support Bot");
    assert_eq!(a["personality"], "friendly");
    assert_eq!(a["primary_color"], "#ff0000");
    assert_eq!(a["is_active"], true);
    assert_eq!(a["allowed_origins"], json!(["https://shop.example.com"]));
    assert!(a["public_id"].as_str().unwrap().starts_with("ag_"));
    let created = a["created_at"].as_str().unwrap();
    assert!(
        created.ends_with("Z") && created.len() == 24,
        "RFC 3339 UTC with milliseconds: {created}"
    );

    // Defaults.
    let d = app.create_agent(&key, "Defaults").await;
    assert_eq!(d["personality"], "professional");
    assert_eq!(d["primary_color"], "#6366f1");
    assert_eq!(d["allowed_origins"], json!([]));

    let got = app.get(&format!("/api/v1/agents/{id}"), &key).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["data"]["name"], "Support Bot");

    // PATCH is partial; null clears an optional text.
    let p = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"name": "Updated Bot", "is_active": false, "system_prompt": null}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let u = &p.body["data"];
    assert_eq!(u["name"], "Updated Bot");
    assert_eq!(u["is_active"], false);
    assert!(u["system_prompt"].is_null());
    assert_eq!(u["welcome_message"], "Hi!", "untouched fields stay");
    assert_eq!(u["personality"], "friendly");

    let list = app.get("/api/v1/agents", &key).await;
    assert_eq!(
        list.body["meta"],
        json!({"total": 2, "limit": 50, "offset": 0})
    );

    let del = app.delete(&format!("/api/v1/agents/{id}"), &key).await;
    assert_eq!(del.body, json!({"success": true}));
    app.get(&format!("/api/v1/agents/{id}"), &key)
        .await
        .assert_error(404, "not_found");
    app.patch(&format!("/api/v1/agents/{id}"), &key, json!({"name": "x"}))
        .await
        .assert_error(404, "not_found");
    app.delete(&format!("/api/v1/agents/{id}"), &key)
        .await
        .assert_error(404, "not_found");
}

async fn agent_validation_names_the_field(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let cases = [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": 42}), "name"),
        (
            json!({"name": "ok", "personality": "grumpy"}),
            "personality",
        ),
        (
            json!({"name": "ok", "primary_color": "red"}),
            "primary_color",
        ),
        (
            json!({"name": "ok", "language": "english please"}),
            "language",
        ),
        (
            json!({"name": "ok", "allowed_origins": ["not a url"]}),
            "allowed_origins",
        ),
        (
            json!({"name": "ok", "allowed_origins": "https://x.io"}),
            "allowed_origins",
        ),
        (json!({"name": "ok", "is_active": "yes"}), "is_active"),
        (
            json!({"name": "ok", "welcome_message": "x".repeat(1001)}),
            "welcome_message",
        ),
        (json!({"name": "ok", "colour": "#000000"}), "colour"),
        (json!({"name": "nul\u{0}byte"}), "name"),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/agents", &key, body.clone()).await;
        let msg = r.assert_error(400, "validation_error");
        assert!(
            msg.contains(field),
            "message for {body} should name `{field}`: {msg}"
        );
    }
    let a = app.create_agent(&key, "Valid").await;
    let id = a["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"unknown_field": 1}),
        )
        .await;
    assert!(
        r.assert_error(400, "validation_error")
            .contains("unknown_field")
    );
    // `null` for a field that cannot be cleared means "not given".
    let r = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"name": null, "language": "fr"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["data"]["name"]),
        (200, &json!("Valid"))
    );
    assert_eq!(r.body["data"]["language"], "fr");
    let r = app
        .patch(&format!("/api/v1/agents/{id}"), &key, json!({"name": ""}))
        .await;
    assert!(r.assert_error(400, "validation_error").contains("name"));
}

async fn agent_pagination(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    for i in 0..7 {
        app.create_agent(&key, &format!("agent {i}")).await;
    }
    let mut seen = Vec::new();
    for offset in [0, 3, 6] {
        let r = app
            .get(&format!("/api/v1/agents?limit=3&offset={offset}"), &key)
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body["meta"],
            json!({"total": 7, "limit": 3, "offset": offset})
        );
        for a in r.body["data"].as_array().unwrap() {
            seen.push(a["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0], "agent 6", "newest first");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "pages do not overlap");
    for bad in ["limit=0", "limit=101", "offset=-1", "limit=abc"] {
        let r = app.get(&format!("/api/v1/agents?{bad}"), &key).await;
        let msg = r.assert_error(400, "validation_error");
        assert!(msg.contains(bad.split('=').next().unwrap()), "{msg}");
    }
}

async fn delete_answers_at_once_and_purges(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let a = app.create_agent(&key, "Doomed").await;
    let id: uuid::Uuid = a["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/agents/{id}"), &key)
            .await
            .status,
        200
    );
    let db = app.ctx().db.clone();
    let purged = eventually(20, || {
        let db = db.clone();
        async move {
            otoq_entities::agents::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .is_none()
        }
    })
    .await;
    assert!(purged, "the purge job removed the agent row");
    assert!(
        eventually(10, || async {
            app.ctx().queue.stats().await.unwrap().queued == 0
        })
        .await
    );
}

/// Agents are cached per process; a change made through one `otoq api` process is seen at once
/// through another (the eviction travels through Redis).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_seen_through_every_api_process() {
    use crate::support::process::{run_otoq, spawn_otoq};
    use crate::support::{Reply, TestEnv};
    let env = TestEnv::new(Backend::Postgres).await;
    let out = run_otoq(
        &env,
        &["accounts", "create", "--email", "c@x.io", "--plan", "pro"],
    )
    .await;
    let key = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let (a, b) = (spawn_otoq(&env, "api").await, spawn_otoq(&env, "api").await);
    let (a, b) = (a.base.clone().unwrap(), b.base.clone().unwrap());
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, url: String, body: Option<serde_json::Value>| {
        let mut req = client.request(method, url).bearer_auth(&key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move { Reply::from(req.send().await.unwrap()).await }
    };
    use reqwest::Method;
    // Warm both caches with an empty list.
    assert_eq!(
        call(Method::GET, format!("{a}/api/v1/agents"), None)
            .await
            .body["meta"]["total"],
        0
    );
    assert_eq!(
        call(Method::GET, format!("{b}/api/v1/agents"), None)
            .await
            .body["meta"]["total"],
        0
    );
    let created = call(
        Method::POST,
        format!("{a}/api/v1/agents"),
        Some(json!({"name": "One"})),
    )
    .await;
    let id = created.body["data"]["id"].as_str().unwrap().to_string();
    let seen = eventually(2, || {
        let f = call(Method::GET, format!("{b}/api/v1/agents"), None);
        async move { f.await.body["meta"]["total"] == 1 }
    })
    .await;
    assert!(seen, "process B sees the agent created through A");
    let r = call(
        Method::PATCH,
        format!("{b}/api/v1/agents/{id}"),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let renamed = eventually(2, || {
        let f = call(Method::GET, format!("{a}/api/v1/agents/{id}"), None);
        async move { f.await.body["data"]["name"] == "Renamed" }
    })
    .await;
    assert!(renamed, "process A sees the rename made through B");
    assert_eq!(
        call(Method::DELETE, format!("{a}/api/v1/agents/{id}"), None)
            .await
            .status,
        200
    );
    let gone = eventually(2, || {
        let f = call(Method::GET, format!("{b}/api/v1/agents/{id}"), None);
        async move { f.await.status == 404 }
    })
    .await;
    assert!(gone, "process B forgets the agent deleted through A");
}

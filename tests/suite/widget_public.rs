//! What the widget's public routes no longer trust or tell: an agent with allowed origins needs
//! an `Origin` (never `Host` or `Sec-Fetch-Site` instead), visitor tokens expire and are renewed
//! near their end, and replies carry no internal ids or plan names.

use std::time::Duration;

use serde_json::json;

use super::chat::shop;
use super::widget::{SHOP, agent, public, visitor};
use crate::both_backends;
use crate::support::{Backend, Reply, spawn_app};

both_backends!(
    widget_requires_an_origin_with_an_allowlist,
    widget_visitor_tokens_expire_and_are_renewed,
    widget_replies_name_no_internal_ids_or_plans
);

async fn widget_requires_an_origin_with_an_allowlist(b: Backend) {
    let app = spawn_app(b).await;
    let (_, a) = agent(&app, json!({"name": "Shop", "allowed_origins": [SHOP]})).await;
    let pid = a["public_id"].as_str().unwrap();
    let config = format!("{}/widget/v1/{pid}/config", app.base);
    // No Origin, but a browser-ish `Sec-Fetch-Site: same-origin`: refused.
    let r = Reply::from(
        app.client
            .get(&config)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(403, "origin_not_allowed");
    // An Origin equal to the Host the client chose is not the deployment's own: refused.
    let r = Reply::from(
        app.client
            .get(&config)
            .header("host", "attacker.example")
            .header("origin", "http://attacker.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(403, "origin_not_allowed");
    // The allowed origin is served.
    let r = public(
        &app,
        "GET",
        &format!("{pid}/config"),
        Some(SHOP),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The iframe variant's page carries its config, so the frame needs no Origin-less GET.
    let page = app
        .client
        .get(format!("{}/widget/v1/{pid}/frame", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"otoq-config\""), "{page}");
    assert!(page.contains(&format!("\"public_id\":\"{pid}\"")), "{page}");
}

async fn widget_visitor_tokens_expire_and_are_renewed(b: Backend) {
    let app = spawn_app(b).await;
    let (_, a) = agent(&app, json!({"name": "Shop", "allowed_origins": [SHOP]})).await;
    let pid = a["public_id"].as_str().unwrap();
    let leads = format!("{pid}/leads");
    let lead = |n: u32| Some(json!({"email": format!("v{n}@example.com")}));
    let token = visitor(&app, pid, Some(SHOP)).await;
    let r = public(&app, "POST", &leads, Some(SHOP), Some(&token), lead(1)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.header("x-otoq-visitor").is_none(),
        "a fresh token is not renewed"
    );

    // 24 days on the token is within a week of its 30: the reply carries a renewed one.
    otoq_core::clock::advance(Duration::from_secs(24 * 86_400));
    let r = public(&app, "POST", &leads, Some(SHOP), Some(&token), lead(2)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let renewed = r
        .header("x-otoq-visitor")
        .expect("a renewed token")
        .to_string();
    assert_ne!(renewed, token);
    assert!(
        r.header("access-control-expose-headers")
            .unwrap()
            .contains("X-Otoq-Visitor")
    );

    // Past 30 days the old token is refused; the renewed one still works.
    otoq_core::clock::advance(Duration::from_secs(7 * 86_400));
    public(&app, "POST", &leads, Some(SHOP), Some(&token), lead(3))
        .await
        .assert_error(401, "invalid_visitor");
    let r = public(&app, "POST", &leads, Some(SHOP), Some(&renewed), lead(4)).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn widget_replies_name_no_internal_ids_or_plans(b: Backend) {
    use sea_orm::ConnectionTrait;
    let app = spawn_app(b).await;
    let (key, a) = agent(&app, json!({"name": "Shop"})).await;
    shop(&app, &key, a.clone()).await;
    let pid = a["public_id"].as_str().unwrap();
    let token = visitor(&app, pid, None).await;
    let chat = format!("{pid}/chat");
    let r = public(
        &app,
        "POST",
        &chat,
        None,
        Some(&token),
        Some(json!({"message": "How many days do I have to return an item?", "stream": false})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let source = &r.body["data"]["sources"][0];
    assert_eq!(source["title"], "Returns and refunds", "{}", r.body);
    assert!(source.get("source_id").is_none(), "{}", r.body);
    assert!(source.get("chunk_id").is_none(), "{}", r.body);
    // The API still gives the owner the ids.
    let r = app
        .post(
            "/api/v1/chat",
            &key,
            json!({"agent_id": a["id"], "message": "How many days do I have to return an item?"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["data"]["sources"][0]["source_id"].is_string(),
        "{}",
        r.body
    );

    // A used-up month: the visitor is told so without the plan's name.
    let (account, _) = app.account(otoq_core::plans::Plan::Free).await;
    let free = otoq_core::agents::create(
        app.ctx(),
        account,
        otoq_core::agents::NewAgent {
            name: "Free shop".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let pid = free.public_id.as_str();
    let token = visitor(&app, pid, None).await;
    let db = &app.ctx().db;
    db.execute_raw(otoq_core::db::statement(
        db,
        "INSERT INTO usage_counters (account_id, period, conversations) VALUES ({}, {}, 50)",
        [
            account.into(),
            otoq_core::conversations::period(chrono::Utc::now()).into(),
        ],
    ))
    .await
    .unwrap();
    let msg = public(
        &app,
        "POST",
        &format!("{pid}/chat"),
        None,
        Some(&token),
        Some(json!({"message": "hello", "stream": false})),
    )
    .await
    .assert_error(429, "plan_limit_reached");
    assert!(msg.contains("50"), "{msg}");
    let lower = msg.to_lowercase();
    for plan in ["free", "starter", "growth", "pro", "enterprise"] {
        assert!(!lower.contains(plan), "{msg}");
    }
}

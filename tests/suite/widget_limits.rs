//! The widget's limits: per visitor, per client IP (also behind a trusted proxy), the agent's
//! daily cap, inactive agents, and the plan's monthly conversations (any plan may use the widget).

use serde_json::json;

use super::widget::{acao, agent, public, visitor};
use crate::both_backends;
use crate::support::{Backend, spawn_app, spawn_app_with};

both_backends!(
    widget_rate_limits_daily_cap_and_inactive_agents,
    widget_serves_free_plans_within_their_conversation_limit
);

async fn widget_rate_limits_daily_cap_and_inactive_agents(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_WIDGET_RATE_LIMIT_VISITOR", "3");
        e.set("OTOQ_WIDGET_RATE_LIMIT_IP", "40");
    })
    .await;
    let (key, a) = agent(&app, json!({"name": "Shop"})).await;
    let pid = a["public_id"].as_str().unwrap().to_string();
    let chat = format!("{pid}/chat");
    let hi = || Some(json!({"message": "hello", "stream": false}));

    // A flooding visitor: 3 messages a window, then 429 with Retry-After.
    let token = visitor(&app, &pid, None).await;
    for _ in 0..3 {
        let r = public(&app, "POST", &chat, None, Some(&token), hi()).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = public(&app, "POST", &chat, None, Some(&token), hi()).await;
    r.assert_error(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        acao(&r.headers),
        Some("*"),
        "the widget can read the refusal"
    );

    // The agent's daily cap: the owner sets it, visitors past it are told.
    let r = app
        .patch(
            &format!("/api/v1/agents/{}", a["id"].as_str().unwrap()),
            &key,
            json!({"daily_message_cap": 4}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["daily_message_cap"], 4);
    let second = visitor(&app, &pid, None).await;
    let r = public(&app, "POST", &chat, None, Some(&second), hi()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = public(&app, "POST", &chat, None, Some(&second), hi()).await;
    let msg = r.assert_error(429, "daily_limit_reached");
    assert!(msg.contains("today"), "{msg}");
    assert!(r.header("retry-after").is_some());

    // Inactive agents say so.
    let r = app
        .patch(
            &format!("/api/v1/agents/{}", a["id"].as_str().unwrap()),
            &key,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    let msg = public(&app, "GET", &format!("{pid}/config"), None, None, None)
        .await
        .assert_error(403, "agent_unavailable");
    assert!(msg.contains("unavailable"), "{msg}");

    // Per client IP: every public request counts, then 429.
    let mut refused = None;
    for _ in 0..45 {
        let r = public(&app, "GET", "ag_unknown/config", None, None, None).await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the per-IP limit refuses");
    r.assert_error(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_per_ip_limit_behind_a_trusted_proxy() {
    for trust in [true, false] {
        let app = spawn_app_with(Backend::Sqlite, |e| {
            e.set("OTOQ_WIDGET_RATE_LIMIT_IP", "2");
            e.set("OTOQ_TRUST_FORWARDED_FOR", trust.to_string());
        })
        .await;
        let status = |xff: &'static str| {
            let req = app
                .client
                .get(format!("{}/widget/v1/ag_unknown/config", app.base))
                .header("x-forwarded-for", xff);
            async move { req.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(status("203.0.113.1").await, 404);
        assert_eq!(status("203.0.113.1").await, 404);
        // A client-invented first entry does not escape the proxy's last one.
        assert_eq!(status("198.51.100.9, 203.0.113.1").await, 429);
        // Another visitor behind the same proxy has a budget of its own only when trusted.
        assert_eq!(
            status("203.0.113.2").await,
            if trust { 404 } else { 429 },
            "trust_forwarded_for={trust}"
        );
    }
}

/// The widget needs no API access (any plan), but the plan's monthly conversations still bound it.
async fn widget_serves_free_plans_within_their_conversation_limit(b: Backend) {
    use sea_orm::ConnectionTrait;
    let app = spawn_app(b).await;
    let (account, _) = app.account(otoq_core::plans::Plan::Free).await;
    let agent = otoq_core::agents::create(
        app.ctx(),
        account,
        otoq_core::agents::NewAgent {
            name: "Free shop".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let pid = agent.public_id.as_str();
    let token = visitor(&app, pid, None).await;
    let chat = format!("{pid}/chat");
    let hi = |conv: Option<&str>| {
        let mut b = json!({"message": "hello", "stream": false});
        if let Some(c) = conv {
            b["conversation_id"] = json!(c);
        }
        Some(b)
    };
    let r = public(&app, "POST", &chat, None, Some(&token), hi(None)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let conv = r.body["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = &app.ctx().db;
    db.execute_raw(otoq_core::db::statement(
        db,
        "UPDATE usage_counters SET conversations = 50 WHERE account_id = {}",
        [account.into()],
    ))
    .await
    .unwrap();
    let msg = public(&app, "POST", &chat, None, Some(&token), hi(None))
        .await
        .assert_error(429, "plan_limit_reached");
    assert!(msg.contains("50"), "{msg}");
    let r = public(&app, "POST", &chat, None, Some(&token), hi(Some(&conv))).await;
    assert_eq!(r.status, 200, "existing conversations continue: {}", r.body);
}

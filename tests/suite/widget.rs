//! The widget's public routes: config, CORS and the `Origin` check, visitor tokens, streamed
//! chat, lead form and handoff. Limits are in `widget_limits.rs`, the embed code, settings and
//! `/widget.js` in `widget_embed.rs`, the real-browser test in `widget_browser.rs`.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::chat::{shop, sse_events};
use crate::both_backends;
use crate::support::receiver::Receiver;
use crate::support::{Backend, Reply, TestApp, spawn_app};

both_backends!(
    widget_config_cors_and_visitor_tokens,
    widget_chat_streams_then_leads_and_handoff
);

pub const SHOP: &str = "https://shop.example";

/// Sends a public widget request with an optional `Origin`, visitor token and JSON body.
pub async fn public(
    app: &TestApp,
    method: &str,
    path: &str,
    origin: Option<&str>,
    visitor: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .client
        .request(method, format!("{}/widget/v1/{path}", app.base));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(v) = visitor {
        req = req.header("x-otoq-visitor", v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Reply::from(req.send().await.unwrap()).await
}

/// A new visitor token for the agent.
pub async fn visitor(app: &TestApp, public_id: &str, origin: Option<&str>) -> String {
    let r = public(
        app,
        "POST",
        &format!("{public_id}/visitors"),
        origin,
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"]["visitor_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A pro account with an agent created from `body`; returns (key, agent JSON).
pub async fn agent(app: &TestApp, body: Value) -> (String, Value) {
    let key = app.pro_key().await;
    let r = app.post("/api/v1/agents", &key, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (key, r.body["data"].clone())
}

pub fn acao(h: &HeaderMap) -> Option<&str> {
    h.get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
}

async fn widget_config_cors_and_visitor_tokens(b: Backend) {
    let app = spawn_app(b).await;
    let (_, a) = agent(
        &app,
        json!({"name": "Shop", "primary_color": "#FF5500", "welcome_message": "Hi there!",
               "allowed_origins": [SHOP], "lead_form_fields": ["name", "email", "phone"]}),
    )
    .await;
    let pid = a["public_id"].as_str().unwrap();
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
    assert_eq!(acao(&r.headers), Some(SHOP));
    assert_eq!(
        r.body,
        json!({"data": {"public_id": pid, "name": "Shop", "primary_color": "#ff5500",
            "welcome_message": "Hi there!", "lead_form": {"fields": ["name", "email", "phone"],
            "trigger": "after_messages", "after_messages": 2}}})
    );
    // Another site, and a request without an Origin, are refused with a clear error.
    let msg = public(
        &app,
        "GET",
        &format!("{pid}/config"),
        Some("https://evil.example"),
        None,
        None,
    )
    .await
    .assert_error(403, "origin_not_allowed");
    assert!(msg.contains("https://evil.example"), "{msg}");
    public(&app, "GET", &format!("{pid}/config"), None, None, None)
        .await
        .assert_error(403, "origin_not_allowed");
    // Preflight: allowed origin gets the CORS grant, another origin a refusal.
    let r = public(
        &app,
        "OPTIONS",
        &format!("{pid}/chat"),
        Some(SHOP),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(acao(&r.headers), Some(SHOP));
    assert!(
        r.header("access-control-allow-headers")
            .unwrap()
            .contains("X-Otoq-Visitor")
    );
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    let r = public(
        &app,
        "OPTIONS",
        &format!("{pid}/chat"),
        Some("https://evil.example"),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-methods").is_none());
    // Unknown agents, API keys and unknown routes.
    public(&app, "GET", "ag_nope/config", Some(SHOP), None, None)
        .await
        .assert_error(404, "not_found");
    let key = app.pro_key().await;
    let r = Reply::from(
        app.client
            .get(format!("{}/widget/v1/{pid}/config", app.base))
            .header("origin", SHOP)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(r.assert_error(400, "validation_error").contains("API key"));
    public(
        &app,
        "GET",
        &format!("{pid}/nothing"),
        Some(SHOP),
        None,
        None,
    )
    .await
    .assert_error(404, "not_found");
    public(&app, "GET", &format!("{pid}/chat"), Some(SHOP), None, None)
        .await
        .assert_error(405, "method_not_allowed");

    // Visitor tokens: issued by the server, required, unforgeable, bound to the agent.
    let token = visitor(&app, pid, Some(SHOP)).await;
    let chat = format!("{pid}/chat");
    let hi = json!({"message": "hello", "stream": false});
    public(&app, "POST", &chat, Some(SHOP), None, Some(hi.clone()))
        .await
        .assert_error(401, "invalid_visitor");
    let forged = format!("{}A", &token[..token.len() - 1]);
    public(
        &app,
        "POST",
        &chat,
        Some(SHOP),
        Some(&forged),
        Some(hi.clone()),
    )
    .await
    .assert_error(401, "invalid_visitor");
    public(
        &app,
        "POST",
        &chat,
        Some(SHOP),
        Some(&uuid::Uuid::new_v4().to_string()),
        Some(hi.clone()),
    )
    .await
    .assert_error(401, "invalid_visitor");
    let (_, other) = agent(&app, json!({"name": "Other"})).await;
    let other_token = visitor(&app, other["public_id"].as_str().unwrap(), None).await;
    public(
        &app,
        "POST",
        &chat,
        Some(SHOP),
        Some(&other_token),
        Some(hi.clone()),
    )
    .await
    .assert_error(401, "invalid_visitor");
    // Bad bodies name the field.
    for (body, field) in [
        (json!({"message": ""}), "message"),
        (json!({"message": 5}), "message"),
        (
            json!({"message": "hi", "conversation_id": "nope"}),
            "conversation_id",
        ),
        (json!({"message": "hi", "api_key": "x"}), "api_key"),
        (json!({"message": "x".repeat(4001)}), "message"),
    ] {
        let msg = public(
            &app,
            "POST",
            &chat,
            Some(SHOP),
            Some(&token),
            Some(body.clone()),
        )
        .await
        .assert_error(400, "validation_error");
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let r = public(&app, "POST", &chat, Some(SHOP), Some(&token), Some(hi)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(acao(&r.headers), Some(SHOP));
    let d = &r.body["data"];
    assert!(d["conversation_id"].is_string());
    assert!(
        !r.body
            .to_string()
            .contains(&a["id"].as_str().unwrap().to_string()),
        "the agent's internal id stays private"
    );
}

/// Streams one widget chat message; returns the `done` event's data.
async fn stream(app: &TestApp, pid: &str, token: &str, body: Value) -> (usize, Value) {
    let resp = app
        .client
        .post(format!("{}/widget/v1/{pid}/chat", app.base))
        .header("origin", SHOP)
        .header("x-otoq-visitor", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(acao(resp.headers()), Some(SHOP));
    let events = sse_events(&resp.text().await.unwrap());
    let tokens = events.iter().filter(|(n, _)| n == "token").count();
    let (name, done) = events.last().unwrap().clone();
    assert_eq!(name, "done", "{events:?}");
    (tokens, done["data"].clone())
}

async fn widget_chat_streams_then_leads_and_handoff(b: Backend) {
    let receiver = Receiver::start().await;
    let app = spawn_app(b).await;
    let (key, a) = agent(
        &app,
        json!({"name": "Shop", "allowed_origins": [SHOP],
               "lead_form_fields": ["name", "email"], "lead_form_trigger": "handoff"}),
    )
    .await;
    let r = app.put_webhook(&key, &receiver.url).await;
    assert_eq!(r.status, 201, "{}", r.body);
    shop(&app, &key, a.clone()).await;
    let pid = a["public_id"].as_str().unwrap();
    let token = visitor(&app, pid, Some(SHOP)).await;

    let (tokens, d) = stream(
        &app,
        pid,
        &token,
        json!({"message": "How many days do I have to return an item?"}),
    )
    .await;
    assert!(tokens > 1, "streamed in pieces");
    assert_eq!(d["answered"], true, "{d}");
    assert!(d["response"].as_str().unwrap().contains("30 days"), "{d}");
    assert_eq!(d["sources"][0]["title"], "Returns and refunds", "{d}");
    let conv = d["conversation_id"].as_str().unwrap().to_string();
    // The conversation is the widget visitor's, visible to the owner through the API.
    let r = app
        .get(&format!("/api/v1/conversations/{conv}"), &key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let (_, d) = stream(
        &app,
        pid,
        &token,
        json!({"message": "Do you repair bicycles?", "conversation_id": conv}),
    )
    .await;
    assert_eq!(d["handoff_offered"], true, "{d}");
    assert_eq!(d["conversation_id"], conv.as_str());

    // Another visitor can neither read nor continue nor hand off this conversation.
    let stranger = visitor(&app, pid, Some(SHOP)).await;
    for (method, path, body) in [
        ("GET", format!("{pid}/conversations/{conv}"), None),
        (
            "POST",
            format!("{pid}/chat"),
            Some(json!({"message": "hi", "conversation_id": conv})),
        ),
        (
            "POST",
            format!("{pid}/handoff"),
            Some(json!({"conversation_id": conv})),
        ),
        (
            "POST",
            format!("{pid}/leads"),
            Some(json!({"conversation_id": conv, "email": "x@y.io"})),
        ),
    ] {
        public(&app, method, &path, Some(SHOP), Some(&stranger), body)
            .await
            .assert_error(404, "not_found");
    }
    // The visitor's own history comes back after a reload.
    let r = public(
        &app,
        "GET",
        &format!("{pid}/conversations/{conv}"),
        Some(SHOP),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let msgs = r.body["data"]["messages"].as_array().unwrap();
    assert!(
        msgs.iter()
            .any(|m| m["role"] == "user" && m["content"] == "Do you repair bicycles?")
    );

    // Handoff: the conversation waits for a person.
    let r = public(
        &app,
        "POST",
        &format!("{pid}/handoff"),
        Some(SHOP),
        Some(&token),
        Some(json!({"conversation_id": conv})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["status"], "handoff_requested");
    assert!(r.body["data"]["message"].is_string());
    let r = app
        .get(&format!("/api/v1/conversations/{conv}"), &key)
        .await;
    assert_eq!(r.body["data"]["status"], "handoff_requested", "{}", r.body);

    // The lead form: fields outside the agent's form and bad emails are refused, by name.
    let leads = format!("{pid}/leads");
    for (body, field) in [
        (
            json!({"conversation_id": conv, "phone": "+351912345678"}),
            "phone",
        ),
        (
            json!({"conversation_id": conv, "email": "not-an-email"}),
            "email",
        ),
        (json!({"conversation_id": conv, "name": "Ana"}), "email"),
    ] {
        let msg = public(
            &app,
            "POST",
            &leads,
            Some(SHOP),
            Some(&token),
            Some(body.clone()),
        )
        .await
        .assert_error(400, "validation_error");
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let r = public(
        &app,
        "POST",
        &leads,
        Some(SHOP),
        Some(&token),
        Some(json!({"conversation_id": conv, "name": "Ana Silva", "email": "ana@example.com"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"data": {"saved": true}}),
        "nothing of the account comes back"
    );
    let r = app.get("/api/v1/leads", &key).await;
    assert_eq!(r.body["meta"]["total"], 1, "{}", r.body);
    let lead = &r.body["data"][0];
    assert_eq!(lead["email"], "ana@example.com");
    assert_eq!(lead["source"], "form");
    assert_eq!(lead["conversation_id"], conv.as_str());
    let got = receiver.wait_for(1, 20).await;
    let hook = got[0].json();
    assert_eq!(hook["event"], "lead.captured");
    assert_eq!(hook["data"]["email"], "ana@example.com");
}

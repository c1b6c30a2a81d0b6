//! Leads: captured from the API/form and from chat (one per conversation and email), validated,
//! scored with reasons, listed with filters, counted in analytics, invisible to other accounts.

use serde_json::json;

use super::chat::{ask, shop};
use super::webhooks::{hooked, lead};
use crate::both_backends;
use crate::support::receiver::Receiver;
use crate::support::{Backend, spawn_app};

both_backends!(
    api_leads_are_validated_and_listed,
    chat_contact_details_become_one_lead
);

async fn api_leads_are_validated_and_listed(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Sales").await;
    let agent = agent["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"agent_id": agent, "email": "not-an-email"}), "email"),
        (
            json!({"agent_id": agent, "phone": "call me maybe"}),
            "phone",
        ),
        (json!({"agent_id": agent, "phone": "912345678"}), "phone"),
        (json!({"agent_id": agent, "email": ""}), "email"),
        (json!({"agent_id": agent, "name": "Only a name"}), "email"),
        (
            json!({"agent_id": agent, "email": "a@b.co", "source": "chat"}),
            "source",
        ),
    ] {
        let msg = app
            .post("/api/v1/leads", &key, body.clone())
            .await
            .assert_error(400, "validation_error");
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let other = app.pro_key().await;
    app.post(
        "/api/v1/leads",
        &other,
        json!({"agent_id": agent, "email": "a@b.co"}),
    )
    .await
    .assert_error(404, "not_found");

    let r = app
        .post(
            "/api/v1/leads",
            &key,
            json!({"agent_id": agent, "email": "Bo@Example.org", "phone": "+442079460958"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(d["email"], "Bo@example.org");
    assert_eq!(d["phone"], "+442079460958");
    assert_eq!(d["source"], "api");
    assert_eq!(d["score"], 35);
    let signals: Vec<&str> = d["score_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["signal"].as_str().unwrap())
        .collect();
    assert_eq!(signals, ["email", "phone"]);
    lead(&app, &key, agent, "ana@example.com").await;

    let r = app.get("/api/v1/leads?min_score=50", &key).await;
    assert_eq!(r.body["meta"]["total"], 1, "{}", r.body);
    assert_eq!(r.body["data"][0]["email"], "ana@example.com");
    let r = app
        .get(&format!("/api/v1/leads?agent_id={agent}&limit=1"), &key)
        .await;
    assert_eq!(r.body["meta"], json!({"total": 2, "limit": 1, "offset": 0}));
    let r = app
        .get("/api/v1/leads?since=2999-01-01T00:00:00Z", &key)
        .await;
    assert_eq!(r.body["meta"]["total"], 0);
    assert_eq!(
        app.get("/api/v1/leads", &other).await.body["meta"]["total"],
        0
    );
    let a = app
        .get(&format!("/api/v1/analytics?agent_id={agent}"), &key)
        .await;
    assert_eq!(a.body["data"]["total_leads"], 2);
}

async fn chat_contact_details_become_one_lead(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_app(b).await;
    let (key, _, _) = hooked(&app, &rx.url).await;
    let agent = app.create_agent(&key, "Shop").await;
    let agent_id = shop(&app, &key, agent).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "How much does the Summit tent cost? I want to buy two.",
    )
    .await;
    let conv = r.body["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "I'm Ana Silva, my email is ana@acme.com",
    )
    .await;
    let reply = r.body["data"]["response"].as_str().unwrap();
    assert!(reply.contains("contact details"), "{reply}");
    let got = rx.wait_for(1, 20).await;
    let data = &got[0].json()["data"];
    assert_eq!(data["email"], "ana@acme.com");
    assert_eq!(data["name"], "Ana Silva");
    assert_eq!(data["source"], "chat");
    assert_eq!(data["conversation_id"], conv.as_str());
    // Later details complete the same lead; no second event.
    ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "You can also call me on +351 912 345 678",
    )
    .await;
    let r = app.get("/api/v1/leads", &key).await;
    assert_eq!(r.body["meta"]["total"], 1, "{}", r.body);
    let l = &r.body["data"][0];
    assert_eq!(l["phone"], "+351912345678");
    let signals: Vec<&str> = l["score_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["signal"].as_str().unwrap())
        .collect();
    assert!(
        signals.contains(&"intent:pricing") && signals.contains(&"intent:purchase"),
        "{signals:?}"
    );
    assert!(
        l["score"].as_i64().unwrap() >= 20 + 15 + 10 + 15 + 20,
        "{l}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(rx.received().len(), 1);
}

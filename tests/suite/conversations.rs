//! Conversations: handoff (status, silent AI, email with transcript, retried), plan limits,
//! sentiment, analytics against a seeded dataset, and tenancy.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::json;

use super::chat::{ask, shop};
use crate::both_backends;
use crate::support::llm::LlmServer;
use crate::support::smtp::SmtpServer;
use crate::support::{Backend, TestApp, eventually, spawn_app_with};
use otoq_core::plans::Plan;

both_backends!(
    handoff_by_api_emails_the_owner_and_silences_the_ai,
    visitor_accepting_the_offer_is_handed_off,
    plan_limit_applies_to_new_conversations_only,
    sentiment_follows_the_visitor,
    llm_judges_sentiment_when_configured,
    analytics_match_a_seeded_dataset,
    other_accounts_conversations_are_invisible,
    inactive_agent_and_bad_input_are_refused
);

async fn shop_agent(app: &TestApp, plan: Plan) -> (uuid::Uuid, String, String) {
    let (account, key) = app.account(plan).await;
    let agent = app.create_agent(&key, "Shop").await;
    let agent_id = shop(app, &key, agent).await;
    (account, key, agent_id)
}

fn conv_of(r: &crate::support::Reply) -> String {
    r.body["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn handoff_by_api_emails_the_owner_and_silences_the_ai(b: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.fail_next(1);
    let llm = LlmServer::start().await;
    llm.reply("neutral");
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_SMTP_URL", smtp.url.clone());
        e.set("OTOQ_SMTP_FROM", "otoq <bot@otoq.test>");
        e.set("OTOQ_PUBLIC_URL", "https://otoq.example");
    })
    .await;
    let (_, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    let conv = conv_of(&r);

    let r = app
        .post(
            &format!("/api/v1/conversations/{conv}/handoff"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(d["status"], "handoff_requested");
    assert!(d["handoff_requested_at"].is_string());
    let notice = d["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(notice["role"], "system");
    assert!(
        notice["content"].as_str().unwrap().contains("team"),
        "{notice}"
    );
    // Asking again changes nothing.
    let again = app
        .post(
            &format!("/api/v1/conversations/{conv}/handoff"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(again.body["data"]["messages"].as_array().unwrap().len(), 3);

    // The AI stays silent: the visitor is told the message was passed on.
    let calls_before = llm.calls();
    let r = ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "When is the Lisbon store open?",
    )
    .await;
    let d = &r.body["data"];
    assert_eq!(d["status"], "handoff_requested");
    assert_eq!(d["answered"], false);
    assert_eq!(d["sources"], json!([]));
    assert!(!d["response"].as_str().unwrap().contains("Monday"), "{d}");
    assert_eq!(llm.calls(), calls_before);

    // The first delivery is refused by the mail server; the retry gets through.
    let mails = smtp.wait_for(1, Duration::from_secs(60)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.to[0].ends_with("@example.com"), "{:?}", mail.to);
    assert_eq!(mail.from, "bot@otoq.test");
    assert!(mail.header("Subject").unwrap().contains("Shop"));
    let body = mail.body_text();
    assert!(
        body.contains("Visitor: When is the Lisbon store open?"),
        "{body}"
    );
    assert!(
        body.contains("Monday to Saturday"),
        "the transcript has the answer: {body}"
    );
    assert!(body.contains(&format!("https://otoq.example/api/v1/conversations/{conv}")));
    assert!(
        eventually(10, || async {
            let c = app
                .get(&format!("/api/v1/conversations/{conv}"), &key)
                .await;
            c.body["data"]["handoff_notified_at"].is_string()
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "sent once");
}

async fn visitor_accepting_the_offer_is_handed_off(b: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_SMTP_URL", smtp.url.clone());
    })
    .await;
    let (_, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "Do you offer gift wrapping for birthdays?",
    )
    .await;
    assert_eq!(r.body["data"]["handoff_offered"], true, "{}", r.body);
    let conv = conv_of(&r);
    let r = ask(&app, &key, &agent_id, Some(&conv), "yes please").await;
    let d = &r.body["data"];
    assert_eq!(d["status"], "handoff_requested", "{d}");
    let mails = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert!(mails[0].body_text().contains("gift wrapping"));

    // Asking for a person outright works too, without an offer first.
    let r = ask(&app, &key, &agent_id, None, "Can I talk to a human please?").await;
    assert_eq!(r.body["data"]["status"], "handoff_requested", "{}", r.body);
    smtp.wait_for(2, Duration::from_secs(30)).await;

    let r = app
        .get("/api/v1/conversations?status=handoff_requested", &key)
        .await;
    assert_eq!(r.body["meta"]["total"], 2, "{}", r.body);
}

async fn plan_limit_applies_to_new_conversations_only(b: Backend) {
    let app = spawn_app_with(b, |_| {}).await;
    let (account, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    let existing = conv_of(&r);
    // 14,998 more conversations this month: one left.
    let db = &app.ctx().db;
    db.execute_raw(otoq_core::db::statement(
        db,
        "UPDATE usage_counters SET conversations = 14999 WHERE account_id = {}",
        [account.into()],
    ))
    .await
    .unwrap();
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    assert_eq!(r.status, 200, "the 15,000th conversation: {}", r.body);
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    let msg = r.assert_error(429, "plan_limit_reached");
    assert!(msg.contains("15000") || msg.contains("15,000"), "{msg}");
    // Existing conversations continue.
    let r = ask(&app, &key, &agent_id, Some(&existing), "And on Sundays?").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Enterprise is unlimited.
    let (ent, ekey, eagent) = shop_agent(&app, Plan::Enterprise).await;
    db.execute_raw(otoq_core::db::statement(
        db,
        "INSERT INTO usage_counters (account_id, period, conversations) VALUES ({}, {}, 1000000)",
        [
            ent.into(),
            otoq_core::conversations::period(chrono::Utc::now()).into(),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(ask(&app, &ekey, &eagent, None, "Hello?").await.status, 200);
}

async fn sentiment_follows_the_visitor(b: Backend) {
    let app = spawn_app_with(b, |_| {}).await;
    let (_, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    let conv = conv_of(&r);
    let get = |c: String| {
        let app = &app;
        let key = key.clone();
        async move {
            app.get(&format!("/api/v1/conversations/{c}"), &key)
                .await
                .body["data"]["sentiment"]
                .clone()
        }
    };
    assert_eq!(get(conv.clone()).await, "neutral");
    ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "Great, thank you so much, that is really helpful!",
    )
    .await;
    assert_eq!(get(conv.clone()).await, "positive");
    ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "Actually this is useless, I am very disappointed and angry.",
    )
    .await;
    assert_eq!(get(conv.clone()).await, "negative");
}

async fn llm_judges_sentiment_when_configured(b: Backend) {
    let llm = LlmServer::start().await;
    llm.respond_with(|req| {
        if req.to_string().contains("classify the overall sentiment") {
            "Negative.".into()
        } else {
            "NO_ANSWER".into()
        }
    });
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_LLM_BASE_URL", llm.url.clone());
    })
    .await;
    let (_, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    // Lexically neutral, judged negative by the model.
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    let conv = conv_of(&r);
    assert!(
        eventually(20, || async {
            let c = app
                .get(&format!("/api/v1/conversations/{conv}"), &key)
                .await;
            c.body["data"]["sentiment"] == "negative"
        })
        .await
    );
}

async fn analytics_match_a_seeded_dataset(b: Backend) {
    let app = spawn_app_with(b, |_| {}).await;
    let (_, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    let other = app.create_agent(&key, "Other").await;
    let other_id = other["id"].as_str().unwrap();

    // 1: answered, positive.
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    ask(
        &app,
        &key,
        &agent_id,
        Some(&conv_of(&r)),
        "Wonderful, thanks a lot!",
    )
    .await;
    // 2 and 3: the same gap, worded differently; 3 is negative and handed off.
    ask(&app, &key, &agent_id, None, "Do you ship to Canada?").await;
    let r = ask(&app, &key, &agent_id, None, "Canada: do you ship there?").await;
    let c3 = conv_of(&r);
    ask(
        &app,
        &key,
        &agent_id,
        Some(&c3),
        "This is terrible and useless.",
    )
    .await;
    app.post(
        &format!("/api/v1/conversations/{c3}/handoff"),
        &key,
        json!({}),
    )
    .await;
    // 4: another gap, once.
    ask(
        &app,
        &key,
        &agent_id,
        None,
        "Do you have a loyalty program for students?",
    )
    .await;
    // 5: on the other agent (inactive knowledge: a gap there).
    ask(&app, &key, other_id, None, "Hello there, is anyone around?").await;

    let r = app
        .get(&format!("/api/v1/analytics?agent_id={agent_id}"), &key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(d["total_conversations"], 4, "{d}");
    assert_eq!(d["total_leads"], 0);
    assert_eq!(
        d["sentiment"],
        json!({"positive": 1, "neutral": 2, "negative": 1}),
        "{d}"
    );
    assert_eq!(d["handoffs"], 1);
    assert_eq!(d["handoff_rate"], 0.25);
    // Questions: store hours (answered), thanks (a question? the agent tried: counted by outcome).
    let answered = d["answered_messages"].as_u64().unwrap();
    let unanswered = d["unanswered_messages"].as_u64().unwrap();
    assert!(unanswered >= 3, "{d}");
    assert!(answered >= 1, "{d}");
    let gaps = d["knowledge_gaps"].as_array().unwrap();
    assert_eq!(gaps[0]["count"], 2, "{d}");
    assert_eq!(gaps[0]["question"], "Canada: do you ship there?");
    assert!(
        gaps.iter()
            .any(|g| g["question"] == "Do you have a loyalty program for students?")
    );
    assert!(
        !gaps
            .iter()
            .any(|g| g["question"] == "Hello there, is anyone around?")
    );

    // The whole account, and a window that excludes everything.
    let r = app.get("/api/v1/analytics", &key).await;
    assert_eq!(r.body["data"]["total_conversations"], 5);
    let r = app
        .get(
            "/api/v1/analytics?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            &key,
        )
        .await;
    assert_eq!(r.body["data"]["total_conversations"], 0, "{}", r.body);
    assert_eq!(r.body["data"]["handoff_rate"], 0.0);
    let r = app
        .get(
            "/api/v1/analytics?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            &key,
        )
        .await;
    assert_eq!(
        r.body["data"]["total_conversations"], 0,
        "an empty window: {}",
        r.body
    );

    // Conversation listing filters agree.
    let r = app
        .get(
            &format!("/api/v1/conversations?agent_id={agent_id}&limit=2"),
            &key,
        )
        .await;
    assert_eq!(r.body["meta"], json!({"total": 4, "limit": 2, "offset": 0}));
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
}

async fn other_accounts_conversations_are_invisible(b: Backend) {
    let app = spawn_app_with(b, |_| {}).await;
    let (_, key, agent_id) = shop_agent(&app, Plan::Pro).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "When is the Lisbon store open?",
    )
    .await;
    let conv = conv_of(&r);
    let mallory = app.pro_key().await;
    let their_agent = app.create_agent(&mallory, "Mine").await;
    let their_agent = their_agent["id"].as_str().unwrap();

    ask(&app, &mallory, &agent_id, None, "Hi")
        .await
        .assert_error(404, "not_found");
    ask(&app, &mallory, their_agent, Some(&conv), "Hi")
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/api/v1/conversations/{conv}"), &mallory)
        .await
        .assert_error(404, "not_found");
    app.post(
        &format!("/api/v1/conversations/{conv}/handoff"),
        &mallory,
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    app.get(&format!("/api/v1/analytics?agent_id={agent_id}"), &mallory)
        .await
        .assert_error(404, "not_found");
    let r = app.get("/api/v1/conversations", &mallory).await;
    assert_eq!(r.body["meta"]["total"], 0);
    // A conversation of another agent of the same account is refused clearly.
    let second = app.create_agent(&key, "Second").await;
    let r = ask(
        &app,
        &key,
        second["id"].as_str().unwrap(),
        Some(&conv),
        "Hi",
    )
    .await;
    assert!(r.assert_error(404, "not_found").contains("conversation"));
}

async fn inactive_agent_and_bad_input_are_refused(b: Backend) {
    let app = spawn_app_with(b, |_| {}).await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Sleepy").await;
    let id = agent["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/agents/{id}"),
        &key,
        json!({"is_active": false}),
    )
    .await;
    let msg = ask(&app, &key, id, None, "Hello?")
        .await
        .assert_error(400, "validation_error");
    assert!(msg.contains("inactive"), "{msg}");
    let msg = app
        .post(
            "/api/v1/chat",
            &key,
            json!({"agent_id": id, "message": "   "}),
        )
        .await
        .assert_error(400, "validation_error");
    assert!(msg.contains("message"), "{msg}");
    app.post(
        "/api/v1/chat",
        &key,
        json!({"agent_id": "nope", "message": "hi"}),
    )
    .await
    .assert_error(400, "validation_error");
    app.get("/api/v1/conversations?status=sleeping", &key)
        .await
        .assert_error(400, "validation_error");
    app.get("/api/v1/conversations?from=yesterday", &key)
        .await
        .assert_error(400, "validation_error");
    // An agent with no knowledge answers honestly.
    let fresh = app.create_agent(&key, "Empty").await;
    let r = ask(
        &app,
        &key,
        fresh["id"].as_str().unwrap(),
        None,
        "What do you sell?",
    )
    .await;
    assert_eq!(r.body["data"]["handoff_offered"], true, "{}", r.body);
}

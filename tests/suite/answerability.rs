//! The answerability gate, end to end: a plainly answerable question is answered (with the fact
//! and its source) however it is phrased, through the API and the widget; an unrelated one gets
//! the honest fallback and a handoff offer.

use serde_json::{Value, json};

use super::widget::{SHOP, agent, public, visitor};
use crate::both_backends;
use crate::support::{Backend, TestApp, spawn_app_with};

both_backends!(
    return_window_is_answered_through_api_and_widget,
    return_window_is_answered_from_keywords_alone
);

const POLICY: &str = "Our return window is 45 days from delivery: unworn items in their original \
    packaging get a full refund. Shipping to Canada costs 12 dollars and takes 5 to 8 business \
    days. Gift cards are sent by email within an hour of purchase.";

const ANSWERABLE: [&str; 2] = [
    "How long is the return window?",
    "How many days do I have to return something?",
];

/// An agent (widget allowed on [`SHOP`]) with the one text source; returns (key, agent, source id).
async fn policy_agent(app: &TestApp) -> (String, Value, String) {
    let (key, a) = agent(app, json!({"name": "Shop", "allowed_origins": [SHOP]})).await;
    let r = app
        .post(
            &format!("/api/v1/agents/{}/sources", a["id"].as_str().unwrap()),
            &key,
            json!({"type": "text", "title": "Policies", "content": POLICY}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let source_id = r.body["data"]["id"].as_str().unwrap().to_string();
    let s = app.settled_source(&key, &source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    (key, a, source_id)
}

/// The reply's `data` to `message`, through `POST /api/v1/chat` or the widget's message route.
async fn ask(app: &TestApp, key: &str, a: &Value, token: Option<&str>, message: &str) -> Value {
    let r = match token {
        None => {
            app.post(
                "/api/v1/chat",
                key,
                json!({"agent_id": a["id"], "message": message}),
            )
            .await
        }
        Some(t) => {
            let pid = a["public_id"].as_str().unwrap();
            public(
                app,
                "POST",
                &format!("{pid}/chat"),
                Some(SHOP),
                Some(t),
                Some(json!({"message": message, "stream": false})),
            )
            .await
        }
    };
    assert_eq!(r.status, 200, "{message}: {}", r.body);
    r.body["data"].clone()
}

/// `source_id`: the API's reply names the source; a widget reply (`None`) carries no internal
/// ids, so there the source is known by its title.
fn assert_answered(d: &Value, source_id: Option<&str>, question: &str) {
    assert_eq!(d["answered"], true, "{question}: {d}");
    assert_eq!(d["handoff_offered"], false, "{question}: {d}");
    let text = d["response"].as_str().unwrap();
    assert!(text.contains("45 days"), "{question}: {text}");
    assert!(!text.contains("don't have"), "{question}: {text}");
    let sources = d["sources"].as_array().unwrap();
    match source_id {
        Some(id) => assert!(
            sources.iter().any(|s| s["source_id"] == id),
            "{question}: {d}"
        ),
        None => assert!(
            sources
                .iter()
                .any(|s| s["title"] == "Policies" && s.get("source_id").is_none()),
            "{question}: {d}"
        ),
    }
    assert!(
        sources[0]["snippet"].as_str().unwrap().contains("45 days"),
        "{question}: {d}"
    );
}

fn assert_refused(d: &Value, question: &str) {
    assert_eq!(d["answered"], false, "{question}: {d}");
    assert_eq!(d["handoff_offered"], true, "{question}: {d}");
    assert_eq!(d["sources"], json!([]), "{question}: {d}");
    let text = d["response"].as_str().unwrap();
    assert!(text.contains("don't have"), "{question}: {text}");
    assert!(!text.contains("45 days"), "{question}: {text}");
}

async fn check(app: &TestApp, widget: bool) {
    let (key, a, source_id) = policy_agent(app).await;
    let token = match widget {
        true => Some(visitor(app, a["public_id"].as_str().unwrap(), Some(SHOP)).await),
        false => None,
    };
    for q in ANSWERABLE {
        let d = ask(app, &key, &a, None, q).await;
        assert_answered(&d, Some(&source_id), q);
        if let Some(t) = &token {
            let d = ask(app, &key, &a, Some(t), q).await;
            assert_answered(&d, None, q);
        }
    }
    let unrelated = "Do you sell bicycles?";
    assert_refused(&ask(app, &key, &a, None, unrelated).await, unrelated);
    if let Some(t) = &token {
        assert_refused(&ask(app, &key, &a, Some(t), unrelated).await, unrelated);
    }
}

async fn return_window_is_answered_through_api_and_widget(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
    })
    .await;
    check(&app, true).await;
}

async fn return_window_is_answered_from_keywords_alone(b: Backend) {
    // No embedder: the keyword evidence alone must not refuse what the knowledge plainly says.
    let app = spawn_app_with(b, |_| {}).await;
    check(&app, false).await;
}

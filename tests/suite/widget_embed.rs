//! The widget's embed code, the agent's widget settings, and `/widget.js` (ETag, 304, gzip size).

use serde_json::json;

use super::widget::{SHOP, agent};
use crate::both_backends;
use crate::support::{Backend, spawn_app};

both_backends!(widget_embed_code_and_agent_settings);

async fn widget_embed_code_and_agent_settings(b: Backend) {
    let app = spawn_app(b).await;
    let (key, a) = agent(&app, json!({"name": "Shop"})).await;
    assert_eq!(a["lead_form_fields"], json!(["name", "email"]));
    assert_eq!(a["lead_form_trigger"], "after_messages");
    assert_eq!(a["lead_form_after_messages"], 2);
    assert_eq!(a["daily_message_cap"], 1000);
    let id = a["id"].as_str().unwrap();
    let pid = a["public_id"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/agents/{id}/embed"), &key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(
        d["script"],
        format!(
            r#"<script src="{}/widget.js" data-agent="{pid}" async></script>"#,
            app.base
        )
    );
    assert!(
        d["iframe"]
            .as_str()
            .unwrap()
            .contains(&format!("{}/widget/v1/{pid}/frame", app.base))
    );
    assert!(
        !r.body.to_string().contains("otoq_"),
        "no API key in the embed code"
    );
    let other = app.pro_key().await;
    app.get(&format!("/api/v1/agents/{id}/embed"), &other)
        .await
        .assert_error(404, "not_found");
    // The iframe page only lets the agent's allowed origins frame it.
    let r = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"allowed_origins": [SHOP]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let resp = app
        .client
        .get(format!("{}/widget/v1/{pid}/frame", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-security-policy"],
        format!("frame-ancestors {SHOP}").as_str()
    );

    for (body, field) in [
        (json!({"lead_form_fields": ["fax"]}), "lead_form_fields"),
        (
            json!({"lead_form_trigger": "sometimes"}),
            "lead_form_trigger",
        ),
        (
            json!({"lead_form_after_messages": 0}),
            "lead_form_after_messages",
        ),
        (json!({"daily_message_cap": 0}), "daily_message_cap"),
    ] {
        let msg = app
            .patch(&format!("/api/v1/agents/{id}"), &key, body.clone())
            .await
            .assert_error(400, "validation_error");
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let r = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"lead_form_fields": ["company", "phone", "name", "phone"],
                   "lead_form_trigger": "handoff", "lead_form_after_messages": 5}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get(&format!("/api/v1/agents/{id}"), &key).await;
    assert_eq!(
        r.body["data"]["lead_form_fields"],
        json!(["name", "phone", "company"])
    );
    assert_eq!(r.body["data"]["lead_form_trigger"], "handoff");
    assert_eq!(r.body["data"]["lead_form_after_messages"], 5);
    // A form must reach the visitor: without email or phone, it asks for the email too.
    let r = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"lead_form_fields": ["company"]}),
        )
        .await;
    assert_eq!(
        r.body["data"]["lead_form_fields"],
        json!(["email", "company"])
    );
    let r = app
        .patch(
            &format!("/api/v1/agents/{id}"),
            &key,
            json!({"lead_form_fields": []}),
        )
        .await;
    assert_eq!(r.body["data"]["lead_form_fields"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_js_is_cached_with_an_etag_and_small() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}/widget.js", app.base);
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(h["cache-control"].to_str().unwrap().contains("max-age"));
    let etag = h["etag"].to_str().unwrap().to_string();
    let plain = resp.bytes().await.unwrap();
    assert!(plain.len() > 1000);
    assert!(
        !String::from_utf8_lossy(&plain).contains("otoq_"),
        "no key in the script"
    );
    let resp = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = app
        .client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let gz = resp.bytes().await.unwrap();
    println!(
        "widget.js: {} bytes, {} bytes gzipped",
        plain.len(),
        gz.len()
    );
    assert!(gz.len() < 30 * 1024, "{} bytes gzipped", gz.len());
    assert!(gz.len() < plain.len());
}

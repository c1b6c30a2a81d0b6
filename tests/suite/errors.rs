//! Every failure is `{"error", "message"}` with the documented code.

use crate::both_backends;
use crate::support::{Backend, Reply, spawn_app, spawn_app_with};

both_backends!(routing_errors, body_errors, oversized_bodies_are_413);

async fn routing_errors(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    app.get("/api/v1/nothing-here", &key)
        .await
        .assert_error(404, "not_found");
    app.call("GET", "/nothing-here", None, None)
        .await
        .assert_error(404, "not_found");

    let r = app.call("PUT", "/api/v1/agents", Some(&key), None).await;
    r.assert_error(405, "method_not_allowed");
    let allow = r.header("allow").expect("Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let id = uuid::Uuid::new_v4();
    let r = app
        .call("POST", &format!("/api/v1/agents/{id}"), Some(&key), None)
        .await;
    r.assert_error(405, "method_not_allowed");
    assert!(r.header("allow").unwrap().contains("PATCH"));

    let r = app.get("/api/v1/agents/not-a-uuid", &key).await;
    let msg = r.assert_error(400, "validation_error");
    assert!(msg.contains("`id`"), "{msg}");
    assert!(r.header("x-request-id").is_some());
}

async fn body_errors(b: Backend) {
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let url = format!("{}/api/v1/agents", app.base);
    let send = |ct: Option<&'static str>, body: &'static str| {
        let mut req = app.client.post(&url).bearer_auth(&key).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        async move { Reply::from(req.send().await.unwrap()).await }
    };
    let msg = send(Some("application/json"), "{\"name\": ")
        .await
        .assert_error(400, "validation_error");
    assert!(msg.to_lowercase().contains("json"), "{msg}");
    send(Some("application/json"), "[1,2]")
        .await
        .assert_error(400, "validation_error");
    send(Some("application/json"), "")
        .await
        .assert_error(400, "validation_error");
    let msg = send(Some("text/plain"), "{\"name\": \"x\"}")
        .await
        .assert_error(400, "validation_error");
    assert!(msg.contains("Content-Type"), "{msg}");
    send(None, "{\"name\": \"x\"}")
        .await
        .assert_error(400, "validation_error");
    // Still fine afterwards.
    assert_eq!(
        send(Some("application/json"), "{\"name\": \"x\"}")
            .await
            .status,
        201
    );
}

async fn oversized_bodies_are_413(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_MAX_BODY_BYTES", "1000");
    })
    .await;
    let key = app.pro_key().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(5000));
    let url = format!("{}/api/v1/agents", app.base);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    r.assert_error(413, "payload_too_large");
    assert!(r.header("x-ratelimit-limit").is_some());
    // Without Content-Length (chunked), the limit still holds.
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(big.into_bytes())]);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    Reply::from(r).await.assert_error(413, "payload_too_large");
}

both_backends!(storage_failure_is_500_without_internals);

async fn storage_failure_is_500_without_internals(b: Backend) {
    use sea_orm::ConnectionTrait;
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    app.ctx()
        .db
        .execute_unprepared("DROP TABLE agents")
        .await
        .unwrap();
    let r = app.get("/api/v1/agents", &key).await;
    let msg = r.assert_error(500, "internal_error");
    let lower = msg.to_lowercase();
    assert!(
        !lower.contains("agents") && !lower.contains("sql") && !lower.contains("table"),
        "no internals: {msg}"
    );
    assert!(
        r.header("x-request-id").is_some(),
        "the request id lets support find the log line"
    );
    // The server is still up.
    assert_eq!(app.call("GET", "/health", None, None).await.status, 200);
}

//! Another account's ids are indistinguishable from ids that do not exist.

use serde_json::json;

use crate::both_backends;
use crate::support::{Backend, spawn_app};

both_backends!(other_accounts_ids_are_404);

async fn other_accounts_ids_are_404(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.pro_key().await;
    let bob = app.pro_key().await;
    let agent = app.create_agent(&alice, "Alice's").await;
    let agent_id = agent["id"].as_str().unwrap();
    let alice_keys = app.get("/api/v1/api-keys", &alice).await;
    let key_id = alice_keys.body["data"][0]["id"].as_str().unwrap();
    let missing = uuid::Uuid::new_v4();

    for (method, path, body) in [
        ("GET", format!("/api/v1/agents/{agent_id}"), None),
        (
            "PATCH",
            format!("/api/v1/agents/{agent_id}"),
            Some(json!({"name": "stolen"})),
        ),
        ("DELETE", format!("/api/v1/agents/{agent_id}"), None),
        ("DELETE", format!("/api/v1/api-keys/{key_id}"), None),
    ] {
        let theirs = app.call(method, &path, Some(&bob), body.clone()).await;
        let none = app
            .call(
                method,
                &path
                    .replace(agent_id, &missing.to_string())
                    .replace(key_id, &missing.to_string()),
                Some(&bob),
                body,
            )
            .await;
        theirs.assert_error(404, "not_found");
        none.assert_error(404, "not_found");
        assert_eq!(
            theirs.body, none.body,
            "{method} {path}: same answer as a missing id"
        );
    }
    assert_eq!(
        app.get("/api/v1/agents", &bob).await.body["meta"]["total"],
        0
    );
    // Alice's things are intact.
    assert_eq!(
        app.get(&format!("/api/v1/agents/{agent_id}"), &alice)
            .await
            .body["data"]["name"],
        "Alice's"
    );
    assert_eq!(app.get("/api/v1/agents", &alice).await.status, 200);
}

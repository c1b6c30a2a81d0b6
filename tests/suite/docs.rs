//! The OpenAPI document, the Markdown generated from it, and the interactive page.

use serde_json::Value;

use crate::support::process::run_otoq;
use crate::support::{Backend, TestEnv, spawn_app};

const ROUTES: [(&str, &str); 31] = [
    ("get", "/agents"),
    ("post", "/agents"),
    ("get", "/agents/{id}"),
    ("patch", "/agents/{id}"),
    ("delete", "/agents/{id}"),
    ("get", "/agents/{id}/embed"),
    ("get", "/api-keys"),
    ("post", "/api-keys"),
    ("delete", "/api-keys/{id}"),
    ("get", "/agents/{id}/sources"),
    ("post", "/agents/{id}/sources"),
    ("post", "/agents/{id}/sources/upload"),
    ("get", "/sources/{id}"),
    ("get", "/sources/{id}/documents"),
    ("post", "/sources/{id}/resync"),
    ("delete", "/sources/{id}"),
    ("post", "/chat"),
    ("get", "/conversations"),
    ("get", "/conversations/{id}"),
    ("post", "/conversations/{id}/handoff"),
    ("get", "/analytics"),
    ("post", "/leads"),
    ("get", "/leads"),
    ("get", "/leads/{id}"),
    ("get", "/webhook"),
    ("put", "/webhook"),
    ("post", "/webhook/rotate-secret"),
    ("post", "/webhook/test"),
    ("get", "/webhook/deliveries"),
    ("get", "/webhook/deliveries/{id}"),
    ("post", "/webhook/deliveries/{id}/retry"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_lists_every_route_and_docs_md_matches_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let spec: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        spec["components"]["securitySchemes"]["ApiKey"]["scheme"],
        "bearer"
    );
    let md = app
        .client
        .get(format!("{}/api/v1/docs.md", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        md.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let md = md.text().await.unwrap();
    let mut count = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            count += 1;
            assert!(
                ROUTES.contains(&(method.as_str(), path.as_str())),
                "undocumented test route {method} {path}"
            );
            let heading = format!("### {} `{path}`", method.to_uppercase());
            assert!(md.contains(&heading), "docs.md lacks {heading}");
            assert!(md.contains(op["summary"].as_str().unwrap()));
            assert!(
                !op["security"].as_array().unwrap().is_empty(),
                "{method} {path} needs a key"
            );
            for status in ["400", "401", "403", "404", "429", "500"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} documents {status}"
                );
            }
        }
    }
    assert_eq!(count, ROUTES.len());
    for schema in spec["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            md.contains(&format!("### `{schema}`")),
            "docs.md documents schema {schema}"
        );
    }
    // The interactive page is served.
    let page = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("swagger")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_prints_the_same_spec() {
    let mut env = TestEnv::new(Backend::Sqlite).await;
    env.set("OTOQ_PUBLIC_URL", "https://api.example.com");
    let out = run_otoq(&env, &["openapi"]).await;
    assert!(out.status.success());
    let spec: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(spec["servers"][0]["url"], "https://api.example.com/api/v1");
    let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), 23);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_ready() {
    for b in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(b).await;
        let h = app.call("GET", "/health", None, None).await;
        assert_eq!(h.body["status"], "ok");
        assert!(h.header("x-request-id").is_some());
        let r = app.call("GET", "/ready", None, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["status"], "ready");
    }
}

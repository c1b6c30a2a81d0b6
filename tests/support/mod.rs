//! Spawning the app against fresh storage, and small HTTP helpers.

pub mod graphql_cost;
pub mod llama;
pub mod llm;
pub mod process;
pub mod proxy;
pub mod receiver;
pub mod shopify;
pub mod site;
pub mod smtp;

use std::collections::HashMap;

use otoq::startup::{self, Role, Running};
use otoq_core::config::Config;
use otoq_core::plans::Plan;
use reqwest::{Response, StatusCode, header::HeaderMap};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use uuid::Uuid;

/// Postgres admin URL used to create one database per test.
pub fn pg_admin_url() -> String {
    std::env::var("OTOQ_TEST_PG_ADMIN")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Redis used by the scaled-mode tests.
pub fn redis_url() -> String {
    std::env::var("OTOQ_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Where the tests keep the offline embedding model (fetched once by the test command).
pub fn test_model_dir() -> String {
    format!(
        "{}/target/test-models/all-MiniLM-L6-v2",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Which storage a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file, in-process rate limits and bus (the embedded mode).
    Sqlite,
    /// Postgres + Redis (the scaled mode).
    Postgres,
}

/// Generates `sqlite` and `postgres` tests calling `async fn $name(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Fresh storage for one test and the environment that points at it.
pub struct TestEnv {
    pub vars: HashMap<String, String>,
    /// Kept alive for as long as the environment: the SQLite file and data directory live here.
    _dir: tempfile::TempDir,
}

impl TestEnv {
    /// A new SQLite file, or a new Postgres database and Redis prefix.
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut vars = HashMap::new();
        let id = Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                vars.insert(
                    "DATABASE_URL".into(),
                    format!("sqlite://{}?mode=rwc", dir.path().join("otoq.db").display()),
                );
            }
            Backend::Postgres => {
                let name = format!("otoq_test_{id}");
                let admin = Database::connect(pg_admin_url())
                    .await
                    .expect("connect to Postgres admin database");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = pg_admin_url();
                let url = format!(
                    "{}/{name}",
                    base.rsplit_once('/').expect("admin URL has a database").0
                );
                vars.insert("DATABASE_URL".into(), url);
                vars.insert("REDIS_URL".into(), redis_url());
                // The scaled mode refuses to start without a key.
                vars.insert("OTOQ_SECRET_KEY".into(), format!("test-key-{id}-{id}"));
            }
        }
        for (k, v) in [
            ("OTOQ_REDIS_PREFIX", format!("test:{id}:")),
            ("OTOQ_DATA_DIR", dir.path().display().to_string()),
            ("OTOQ_BIND", "127.0.0.1:0".into()),
            ("OTOQ_QUEUE_POLL_MS", "200".into()),
            // Tests that are not about rate limits must not trip over them.
            ("OTOQ_RATE_LIMIT_PRO", "1000000".into()),
            ("OTOQ_RATE_LIMIT_ENTERPRISE", "1000000".into()),
            ("OTOQ_RATE_LIMIT_ANONYMOUS", "1000000".into()),
            ("OTOQ_WIDGET_VISITORS_PER_IP_HOUR", "1000000".into()),
            ("OTOQ_WIDGET_CONVERSATIONS_PER_IP_HOUR", "1000000".into()),
            ("OTOQ_WIDGET_HOURLY_SHARE_PERCENT", "100".into()),
            ("OTOQ_WIDGET_DAILY_SHARE_PERCENT", "100".into()),
            ("OTOQ_ALLOW_PRIVATE_NETWORKS", "true".into()),
            // Embeddings are switched on by the tests that need them (see `with_embedder`).
            ("OTOQ_EMBEDDER", "none".into()),
            ("OTOQ_EMBEDDER_MODEL_DIR", test_model_dir()),
            // In-process apps run inside the test binary: documents are read by the real one.
            ("OTOQ_EXTRACT_EXE", env!("CARGO_BIN_EXE_otoq").into()),
        ] {
            vars.insert(k.into(), v);
        }
        TestEnv { vars, _dir: dir }
    }

    /// Turns the offline embedder on.
    pub fn with_embedder(&mut self) -> &mut Self {
        self.set("OTOQ_EMBEDDER", "minilm")
    }

    /// Sets one variable.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// The configuration these variables describe.
    pub fn config(&self) -> Config {
        Config::from_lookup(|k| self.vars.get(k).cloned()).expect("valid test config")
    }
}

/// The app running in this process, and a client for it.
pub struct TestApp {
    /// Kept alive while the app runs.
    _env: TestEnv,
    pub base: String,
    pub client: reqwest::Client,
    pub running: Running,
}

/// Spawns API and workers (`otoq serve`) on a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], after `configure` adjusted the environment.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut TestEnv)) -> TestApp {
    let mut env = TestEnv::new(backend).await;
    configure(&mut env);
    let running = startup::start(env.config(), Role::Serve)
        .await
        .expect("app starts");
    let base = format!("http://{}", running.addr.expect("API address"));
    TestApp {
        _env: env,
        base,
        client: reqwest::Client::new(),
        running,
    }
}

/// A status, headers and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Reads a response whose body is JSON (or empty).
    pub async fn from(resp: Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the documented error shape and code, and returns the message.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"], code, "body: {}", self.body);
        let message = self.body["message"]
            .as_str()
            .expect("error has a message")
            .to_string();
        assert!(!message.is_empty());
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(2),
            "only error and message: {}",
            self.body
        );
        message
    }
}

impl TestApp {
    /// The shared handles of the running app.
    pub fn ctx(&self) -> &otoq_core::Context {
        &self.running.ctx
    }

    /// Creates an account on `plan`; returns its id and API key.
    pub async fn account(&self, plan: Plan) -> (Uuid, String) {
        let email = format!("{}@example.com", Uuid::new_v4().simple());
        let created = otoq_core::accounts::create(&self.ctx().db, &email, None, plan)
            .await
            .expect("account");
        (created.account.id, created.key.plaintext)
    }

    /// A pro account's key.
    pub async fn pro_key(&self) -> String {
        self.account(Plan::Pro).await.1
    }

    /// Sends `method path` with an optional key and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    /// `PUT /api/v1/webhook` with `url`: creates (201) or updates (200) the account's endpoint.
    pub async fn put_webhook(&self, key: &str, url: &str) -> Reply {
        self.call(
            "PUT",
            "/api/v1/webhook",
            Some(key),
            Some(serde_json::json!({ "url": url })),
        )
        .await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call("GET", path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call("POST", path, Some(key), Some(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.call("DELETE", path, Some(key), None).await
    }

    /// Creates an agent named `name`; returns its JSON.
    pub async fn create_agent(&self, key: &str, name: &str) -> Value {
        let r = self
            .post("/api/v1/agents", key, serde_json::json!({ "name": name }))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["data"].clone()
    }
}

impl TestApp {
    /// Waits until the source is `ready` or `failed` and returns it.
    pub async fn settled_source(&self, key: &str, id: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let r = self.get(&format!("/api/v1/sources/{id}"), key).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let status = r.body["data"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if status == "ready" || status == "failed" {
                return r.body["data"].clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "source still {status}: {}",
                r.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Polls `check` every 50 ms until it is true or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

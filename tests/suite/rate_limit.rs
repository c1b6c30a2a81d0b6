//! Rate limits per key and plan, their headers, and one budget shared by several API processes.

use otoq_core::plans::Plan;

use crate::both_backends;
use crate::support::process::spawn_otoq;
use crate::support::{Backend, Reply, TestEnv, spawn_app_with};

both_backends!(
    request_101_gets_429,
    enterprise_limit_is_configurable,
    an_accounts_keys_share_one_budget,
    counters_survive_a_restart
);

async fn request_101_gets_429(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_RATE_LIMIT_PRO", "100");
    })
    .await;
    let key = app.pro_key().await;
    let mut last_remaining = u64::MAX;
    for i in 1..=100u64 {
        let r = app.get("/api/v1/agents", &key).await;
        assert_eq!(r.status, 200, "request {i}");
        assert_eq!(r.header("x-ratelimit-limit"), Some("100"));
        let remaining: u64 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
        assert_eq!(remaining, 100 - i);
        assert!(remaining < last_remaining);
        last_remaining = remaining;
        let reset: u64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            reset > now && reset <= now + 66,
            "reset {reset} is a unix time within the window"
        );
    }
    let r = app.get("/api/v1/agents", &key).await;
    let msg = r.assert_error(429, "rate_limited");
    assert!(!msg.is_empty());
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=66).contains(&retry), "{retry}");
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    // Another key has its own budget.
    let other = app.pro_key().await;
    assert_eq!(app.get("/api/v1/agents", &other).await.status, 200);
}

async fn enterprise_limit_is_configurable(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_RATE_LIMIT_ENTERPRISE", "5")
            .set("OTOQ_RATE_LIMIT_PRO", "3");
    })
    .await;
    let (_, key) = app.account(Plan::Enterprise).await;
    for _ in 0..5 {
        let r = app.get("/api/v1/agents", &key).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
    }
    app.get("/api/v1/agents", &key)
        .await
        .assert_error(429, "rate_limited");
}

/// Two separate `otoq api` processes on one Redis allow the limit once, not twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_processes_share_one_budget() {
    let mut env = TestEnv::new(Backend::Postgres).await;
    env.set("OTOQ_RATE_LIMIT_PRO", "10");
    let out = crate::support::process::run_otoq(
        &env,
        &[
            "accounts",
            "create",
            "--email",
            "share@x.io",
            "--plan",
            "pro",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let a = spawn_otoq(&env, "api").await;
    let b = spawn_otoq(&env, "api").await;
    let client = reqwest::Client::new();
    let mut ok = 0;
    let mut limited = 0;
    for i in 0..16 {
        let base = if i % 2 == 0 {
            a.base.as_ref()
        } else {
            b.base.as_ref()
        }
        .unwrap();
        let r = Reply::from(
            client
                .get(format!("{base}/api/v1/agents"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        match r.status.as_u16() {
            200 => ok += 1,
            429 => {
                r.assert_error(429, "rate_limited");
                limited += 1
            }
            s => panic!("unexpected {s}: {}", r.body),
        }
    }
    assert_eq!(
        (ok, limited),
        (10, 6),
        "one shared budget of 10 across both processes"
    );
}

/// More keys do not multiply the limit: every key of an account draws on one budget, and the
/// headers of each key tell the account's remaining requests.
async fn an_accounts_keys_share_one_budget(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_RATE_LIMIT_PRO", "10");
    })
    .await;
    let first = app.pro_key().await;
    let mut keys = vec![first.clone()];
    for (i, name) in ["second", "third"].into_iter().enumerate() {
        let r = app
            .post(
                "/api/v1/api-keys",
                &first,
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((9 - i).to_string().as_str())
        );
        keys.push(r.body["data"]["key"].as_str().unwrap().to_string());
    }
    // 2 requests spent; 8 left for the three keys together.
    for i in 0..8u64 {
        let r = app.get("/api/v1/agents", &keys[i as usize % 3]).await;
        assert_eq!(r.status, 200, "request {i}");
        assert_eq!(r.header("x-ratelimit-limit"), Some("10"));
        let remaining: u64 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
        assert_eq!(remaining, 7 - i, "request {i} with key {}", i % 3);
    }
    for key in &keys {
        let r = app.get("/api/v1/agents", key).await;
        r.assert_error(429, "rate_limited");
        assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    }
    // Another account is not touched.
    assert_eq!(
        app.get("/api/v1/agents", &app.pro_key().await).await.status,
        200
    );
}

/// A restart does not hand out a fresh budget (embedded: counters kept in the database;
/// scaled: in Redis).
async fn counters_survive_a_restart(b: Backend) {
    use otoq::startup::{self, Role};
    let mut env = TestEnv::new(b).await;
    env.set("OTOQ_RATE_LIMIT_PRO", "10");
    let client = reqwest::Client::new();
    let get = |base: String, key: String| {
        let client = client.clone();
        async move {
            Reply::from(
                client
                    .get(format!("{base}/api/v1/agents"))
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let running = startup::start(env.config(), Role::Serve).await.unwrap();
    let key = otoq_core::accounts::create(&running.ctx.db, "restart@x.io", None, Plan::Pro)
        .await
        .unwrap()
        .key
        .plaintext;
    let base = format!("http://{}", running.addr.unwrap());
    for i in 1..=4u64 {
        let r = get(base.clone(), key.clone()).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((10 - i).to_string().as_str())
        );
    }
    running.stop().await;
    let running = startup::start(env.config(), Role::Serve).await.unwrap();
    let base = format!("http://{}", running.addr.unwrap());
    let r = get(base, key).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-ratelimit-remaining"),
        Some("5"),
        "the requests before the restart still count"
    );
    running.stop().await;
}

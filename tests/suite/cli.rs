//! The CLI contract: `otoq accounts create` prints a working key.

use crate::support::process::{run_otoq, spawn_otoq};
use crate::support::{Backend, TestEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_create_prints_a_working_key() {
    let env = TestEnv::new(Backend::Sqlite).await;
    let out = run_otoq(
        &env,
        &["accounts", "create", "--email", "a@x.io", "--plan", "pro"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v.as_object().unwrap().len(), 2);
    let key = v["api_key"].as_str().unwrap();
    assert!(key.starts_with("otoq_"));
    uuid::Uuid::parse_str(v["account_id"].as_str().unwrap()).unwrap();

    let again = run_otoq(
        &env,
        &["accounts", "create", "--email", "A@x.io", "--plan", "pro"],
    )
    .await;
    assert!(!again.status.success(), "duplicate email refused");
    let bad = run_otoq(
        &env,
        &["accounts", "create", "--email", "b@x.io", "--plan", "gold"],
    )
    .await;
    assert!(!bad.status.success());

    let serve = spawn_otoq(&env, "serve").await;
    let base = serve.base.clone().unwrap();
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/agents"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

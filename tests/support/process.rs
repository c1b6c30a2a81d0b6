//! Real `otoq` processes for the multi-process tests.

use std::time::Duration;

use tokio::process::{Child, Command};

use super::TestEnv;

/// A child `otoq` process, killed when dropped.
pub struct OtoqProcess {
    pub child: Child,
    pub base: Option<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Runs `otoq <args>` with the test's environment and waits for completion; returns stdout.
pub async fn run_otoq(env: &TestEnv, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_otoq"))
        .args(args)
        .env_clear()
        .envs(&env.vars)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .await
        .expect("otoq runs")
}

/// Starts `otoq <role>` (`api`, `worker` or `serve`); waits for `/health` when it serves HTTP.
pub async fn spawn_otoq(env: &TestEnv, role: &str) -> OtoqProcess {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_otoq"));
    cmd.arg(role)
        .env_clear()
        .envs(&env.vars)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null());
    let mut base = None;
    if role != "worker" {
        let port = free_port();
        cmd.env("OTOQ_BIND", format!("127.0.0.1:{port}"));
        cmd.env_remove("OTOQ_PUBLIC_URL");
        base = Some(format!("http://127.0.0.1:{port}"));
    }
    let child = cmd.spawn().expect("spawn otoq");
    if let Some(b) = &base {
        let client = reqwest::Client::new();
        let healthy = super::eventually(30, || async {
            client
                .get(format!("{b}/health"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(healthy, "otoq {role} did not become healthy");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    OtoqProcess { child, base }
}

//! Accepted work survives: a worker killed mid-delivery, and Redis going away while leads are
//! captured, lose no webhook event.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::process::{run_otoq, spawn_otoq};
use crate::support::proxy::Proxy;
use crate::support::receiver::{Answer, Receiver};
use crate::support::{Backend, Reply, TestEnv, eventually, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_delivery_delivers_after_restart() {
    let rx = Receiver::start().await;
    // The first request hangs while the worker is killed.
    rx.script([Answer::status(200).after(Duration::from_millis(2500))]);
    let mut env = TestEnv::new(Backend::Postgres).await;
    env.set("OTOQ_JOB_LEASE_SECS", "2");
    env.set("OTOQ_WEBHOOK_TIMEOUT_SECS", "3");
    assert!(run_otoq(&env, &["migrate"]).await.status.success());
    let out = run_otoq(
        &env,
        &["accounts", "create", "--email", "k@x.io", "--plan", "pro"],
    )
    .await;
    let key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let api = spawn_otoq(&env, "api").await;
    let base = api.base.clone().unwrap();
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = Reply::from(
        call(
            reqwest::Method::PUT,
            "/api/v1/webhook",
            json!({"url": rx.url}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let agent = Reply::from(
        call(
            reqwest::Method::POST,
            "/api/v1/agents",
            json!({"name": "S"}),
        )
        .await
        .unwrap(),
    )
    .await;
    let agent = agent.body["data"]["id"].as_str().unwrap().to_string();
    let mut worker = spawn_otoq(&env, "worker").await;
    let r = Reply::from(
        call(
            reqwest::Method::POST,
            "/api/v1/leads",
            json!({"agent_id": agent, "email": "a@b.co"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    rx.wait_for(1, 30).await;
    worker.child.start_kill().unwrap();
    worker.child.wait().await.unwrap();
    let _worker = spawn_otoq(&env, "worker").await;
    let got = rx.wait_for(2, 60).await;
    assert_eq!(got[0].header("x-webhook-id"), got[1].header("x-webhook-id"));
    let delivered = eventually(20, || async {
        let r = Reply::from(
            client
                .get(format!("{base}/api/v1/webhook/deliveries?status=succeeded"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        r.body["meta"]["total"] == 1
    })
    .await;
    assert!(delivered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_loses_no_lead() {
    let rx = Receiver::start().await;
    let redis: std::net::SocketAddr = "127.0.0.1:6379".parse().unwrap();
    let proxy = Proxy::start(redis).await;
    let app = spawn_app_with(Backend::Postgres, |e| {
        e.set("REDIS_URL", format!("redis://{}", proxy.addr));
    })
    .await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "S").await;
    let agent = agent["id"].as_str().unwrap().to_string();
    let r = app.put_webhook(&key, &rx.url).await;
    assert_eq!(r.status, 201);
    proxy.stop();
    for i in 0..10 {
        let r = app
            .post(
                "/api/v1/leads",
                &key,
                json!({"agent_id": agent, "email": format!("down{i}@b.co")}),
            )
            .await;
        assert_eq!(r.status, 201, "captured while Redis is down: {}", r.body);
    }
    proxy.resume().await;
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/leads",
                &key,
                json!({"agent_id": agent, "email": format!("up{i}@b.co")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let got = rx.wait_for(15, 60).await;
    let mut emails: Vec<String> = got
        .iter()
        .map(|r| r.json()["data"]["email"].as_str().unwrap().to_string())
        .collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 15);
}

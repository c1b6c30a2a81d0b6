//! Webhook delivery throughput: capture N leads in the Postgres + Redis mode and deliver them,
//! signed, to a local receiver. Prints deliveries/s and capture-to-receipt latency p50 / p95.
//!
//! Run: `cargo bench --bench webhooks`. Env: BENCH_LEADS (5000), BENCH_PG_ADMIN
//! (postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS (redis://127.0.0.1:6379),
//! BENCH_SQLITE=1 to measure the embedded mode instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use otoq::startup::{self, Role};
use otoq_core::config::Config;
use otoq_core::leads::contact::Contact;
use otoq_core::plans::Plan;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};
use sea_orm::ConnectionTrait;

type Seen = Arc<Mutex<HashMap<String, Instant>>>;

struct Sink {
    seen: Seen,
}

impl Endpoint for Sink {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let email = {
            let body = req.into_body().into_vec().await.unwrap_or_default();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            v["data"]["email"].as_str().unwrap_or_default().to_string()
        };
        self.seen
            .lock()
            .unwrap()
            .entry(email)
            .or_insert_with(Instant::now);
        Ok(Response::builder()
            .status(poem::http::StatusCode::NO_CONTENT)
            .finish())
    }
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("BENCH_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let sqlite = std::env::var("BENCH_SQLITE").is_ok_and(|v| v == "1");
    let seen: Seen = Arc::default();
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .cloned()
        .context("receiver address")?;
    let sink = Sink { seen: seen.clone() };
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(sink).await;
    });

    let dir = tempfile::tempdir()?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("OTOQ_DATA_DIR", dir.path().display().to_string()),
        ("OTOQ_BIND", "127.0.0.1:0".into()),
        ("OTOQ_EMBEDDER", "none".into()),
        ("OTOQ_ALLOW_PRIVATE_NETWORKS", "true".into()),
        ("OTOQ_WORKER_CONCURRENCY", "64".into()),
        ("OTOQ_QUEUE_BATCH", "128".into()),
        ("OTOQ_REDIS_PREFIX", format!("bench:{id}:")),
    ]);
    let mut pg_db = None;
    if !sqlite {
        let admin = std::env::var("BENCH_PG_ADMIN")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("otoq_bench_{id}");
        let conn = sea_orm::Database::connect(&admin).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        vars.insert(
            "DATABASE_URL",
            format!("{}/{name}", admin.rsplit_once('/').context("admin url")?.0),
        );
        vars.insert(
            "REDIS_URL",
            std::env::var("BENCH_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        );
        pg_db = Some((conn, name));
    }
    let config = Config::from_lookup(|k| vars.get(k).cloned())?;
    let app = startup::start(config, Role::Serve).await?;
    let ctx = app.ctx.clone();
    let account =
        otoq_core::accounts::create(&ctx.db, "bench@example.com", None, Plan::Enterprise).await?;
    let account_id = account.account.id;
    let agent = otoq_core::agents::create(
        &ctx,
        account_id,
        otoq_core::agents::NewAgent {
            name: "Bench".into(),
            ..Default::default()
        },
    )
    .await?;
    otoq_core::webhooks::endpoint::put(
        &ctx,
        account_id,
        otoq_core::webhooks::endpoint::EndpointInput {
            url: format!("http://{addr}/hook"),
            enabled: None,
            events: None,
        },
    )
    .await?;

    println!(
        "capturing {n} leads ({} mode)…",
        if sqlite {
            "embedded SQLite"
        } else {
            "Postgres + Redis"
        }
    );
    let captured: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let ctx = ctx.clone();
        let captured = captured.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(16) {
                let email = format!("lead{i}@example.com");
                let contact = Contact {
                    email: Some(email.clone()),
                    ..Default::default()
                };
                captured.lock().unwrap().insert(email, Instant::now());
                otoq_core::leads::store::capture(&ctx, account_id, agent.id, None, contact, "api")
                    .await
                    .expect("capture");
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let capture_secs = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen.lock().unwrap().len() < n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} delivered",
            seen.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed().as_secs_f64();
    let seen = seen.lock().unwrap().clone();
    let captured = captured.lock().unwrap().clone();
    let mut latency: Vec<Duration> = captured
        .iter()
        .map(|(e, t)| seen[e].duration_since(*t))
        .collect();
    println!(
        "captured {n} leads in {capture_secs:.2} s ({:.0}/s)",
        n as f64 / capture_secs
    );
    println!(
        "delivered {n} in {total:.2} s: {:.0} deliveries/s; capture-to-receipt latency p50 {:.0} ms, p95 {:.0} ms",
        n as f64 / total,
        pct(&mut latency, 0.5),
        pct(&mut latency, 0.95)
    );
    drop(app);
    if let Some((conn, name)) = pg_db {
        let _ = conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    Ok(())
}

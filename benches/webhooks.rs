//! Webhook delivery: capture leads in the Postgres + Redis mode and deliver them, signed, to a
//! local receiver. Two phases, each on a fresh database:
//! - capacity: N leads are captured while no worker runs, then a worker drains the backlog;
//!   prints deliveries/s;
//! - steady: a worker runs while N leads are captured at BENCH_RATE leads/s (the capture and the
//!   delivery share the 2 cores); prints capture-to-receipt latency p50 / p95.
//!
//! Run: `cargo bench --bench webhooks`. Env: BENCH_LEADS (5000), BENCH_RATE (400),
//! BENCH_PG_ADMIN (postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS
//! (redis://127.0.0.1:6379), BENCH_SQLITE=1 to measure the embedded mode instead.

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

/// The receiver and what it has seen.
struct Receiver {
    addr: std::net::SocketAddr,
    seen: Seen,
}

async fn receiver() -> anyhow::Result<Receiver> {
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
    Ok(Receiver { addr, seen })
}

/// A fresh database (Postgres + Redis, or SQLite) and the configuration that points at it.
struct Storage {
    vars: HashMap<&'static str, String>,
    pg_db: Option<(sea_orm::DatabaseConnection, String)>,
    _dir: tempfile::TempDir,
}

impl Storage {
    async fn new(sqlite: bool) -> anyhow::Result<Self> {
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
            // The scaled mode refuses to start without a key.
            vars.insert("OTOQ_SECRET_KEY", format!("bench-key-{id}-{id}"));
            pg_db = Some((conn, name));
        }
        Ok(Storage {
            vars,
            pg_db,
            _dir: dir,
        })
    }

    fn config(&self) -> anyhow::Result<Config> {
        Config::from_lookup(|k| self.vars.get(k).cloned())
    }

    async fn drop_database(self) {
        if let Some((conn, name)) = self.pg_db {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// An account with an agent and a webhook endpoint at the receiver: `(account, agent)`.
async fn account(
    ctx: &otoq_core::Context,
    hook: std::net::SocketAddr,
) -> anyhow::Result<(uuid::Uuid, uuid::Uuid)> {
    let account =
        otoq_core::accounts::create(&ctx.db, "bench@example.com", None, Plan::Enterprise).await?;
    let account_id = account.account.id;
    let agent = otoq_core::agents::create(
        ctx,
        account_id,
        otoq_core::agents::NewAgent {
            name: "Bench".into(),
            ..Default::default()
        },
    )
    .await?;
    otoq_core::webhooks::endpoint::put(
        ctx,
        account_id,
        otoq_core::webhooks::endpoint::EndpointInput {
            url: format!("http://{hook}/hook"),
            enabled: None,
            events: None,
        },
    )
    .await?;
    Ok((account_id, agent.id))
}

/// Captures `n` leads with 16 concurrent callers, at most `rate` a second in all (0: as fast as
/// they can); returns when each was captured.
async fn capture(
    ctx: &otoq_core::Context,
    (account_id, agent_id): (uuid::Uuid, uuid::Uuid),
    n: usize,
    rate: f64,
) -> anyhow::Result<HashMap<String, Instant>> {
    const CALLERS: usize = 16;
    let captured: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CALLERS {
        let ctx = ctx.clone();
        let captured = captured.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(CALLERS) {
                if rate > 0.0 {
                    let due = started + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let email = format!("lead{i}@example.com");
                let contact = Contact {
                    email: Some(email.clone()),
                    ..Default::default()
                };
                captured.lock().unwrap().insert(email, Instant::now());
                otoq_core::leads::store::capture(
                    &ctx,
                    account_id,
                    agent_id,
                    None,
                    contact,
                    otoq_entities::enums::LeadSource::Api,
                )
                .await
                .expect("capture");
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let captured = captured.lock().unwrap().clone();
    Ok(captured)
}

/// Waits until the receiver has seen `n` events.
async fn received(seen: &Seen, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen.lock().unwrap().len() < n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} delivered",
            seen.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env_num = |k: &str, default: f64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(default)
    };
    let n = env_num("BENCH_LEADS", 5000.0) as usize;
    let rate = env_num("BENCH_RATE", 400.0);
    let sqlite = std::env::var("BENCH_SQLITE").is_ok_and(|v| v == "1");
    println!(
        "{} mode, {n} leads per phase",
        if sqlite {
            "embedded SQLite"
        } else {
            "Postgres + Redis"
        }
    );

    // Capacity: a backlog of N captured leads, drained by one worker process.
    let hook = receiver().await?;
    let storage = Storage::new(sqlite).await?;
    let api = startup::start(storage.config()?, Role::Serve).await?;
    api.stop().await;
    let api = startup::start(storage.config()?, Role::Api).await?;
    let ids = account(&api.ctx, hook.addr).await?;
    let t = Instant::now();
    capture(&api.ctx, ids, n, 0.0).await?;
    let capture_secs = t.elapsed().as_secs_f64();
    println!(
        "capacity: captured {n} leads in {capture_secs:.2} s ({:.0}/s) with no worker running",
        n as f64 / capture_secs
    );
    let t = Instant::now();
    let worker = startup::start(storage.config()?, Role::Worker).await?;
    received(&hook.seen, n).await?;
    let drain_secs = t.elapsed().as_secs_f64();
    println!(
        "capacity: one worker delivered the backlog of {n} in {drain_secs:.2} s: {:.0} deliveries/s",
        n as f64 / drain_secs
    );
    worker.stop().await;
    api.stop().await;
    storage.drop_database().await;

    // Steady: capture at a sustained rate while a worker delivers.
    let hook = receiver().await?;
    let storage = Storage::new(sqlite).await?;
    let app = startup::start(storage.config()?, Role::Serve).await?;
    let ids = account(&app.ctx, hook.addr).await?;
    let t = Instant::now();
    let captured = capture(&app.ctx, ids, n, rate).await?;
    received(&hook.seen, n).await?;
    let total = t.elapsed().as_secs_f64();
    let seen = hook.seen.lock().unwrap().clone();
    let mut latency: Vec<Duration> = captured
        .iter()
        .map(|(e, t)| seen[e].duration_since(*t))
        .collect();
    println!(
        "steady: {n} leads captured at {rate:.0}/s and delivered in {total:.2} s; capture-to-receipt latency p50 {:.0} ms, p95 {:.0} ms",
        pct(&mut latency, 0.5),
        pct(&mut latency, 0.95)
    );
    app.stop().await;
    storage.drop_database().await;
    Ok(())
}

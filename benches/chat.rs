//! Answer quality and chat speed on real documentation served from disk.
//!
//! Ingests four books of the Rust toolchain's docs (Rust by Example, the Reference, the Edition
//! Guide, the rustc book — not The Rust Programming Language or the Cargo Book, which are kept for
//! an independent evaluation) through the real crawler, chunker and offline embedder, then asks
//! `benches/chat/questions.json`: answerable questions with their known answer pages, and
//! questions the books cannot answer. Prints retrieval hit@1 / hit@5, the refusal rate on the
//! unanswerable ones, answered-but-wrong with the extractive answerer, and latency (p50 / p95)
//! of retrieval and of a whole `POST /chat` (everything but an LLM) at the real size and after
//! padding the agent to 100k passages.
//!
//! Run: `cargo bench --bench chat`. Env: BENCH_DOCS (the toolchain's `share/doc/rust/html`),
//! BENCH_DIR (state kept between runs, default target/bench-chat; delete it to ingest again),
//! BENCH_PAD (passages to pad to, default 100000; 0 skips), BENCH_VERBOSE=1 (every question).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use otoq::startup::{self, Role, Running};
use otoq_core::config::Config;
use otoq_core::plans::Plan;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};
use serde_json::{Value, json};

const BOOKS: [&str; 4] = ["rust-by-example", "reference", "edition-guide", "rustc"];

/// Serves the four books, without print-all pages, tables of contents and translations.
struct Docs {
    root: PathBuf,
}

impl Endpoint for Docs {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().trim_start_matches('/').to_string();
        let not_found = || {
            Response::builder()
                .status(poem::http::StatusCode::NOT_FOUND)
                .finish()
        };
        if path.is_empty() {
            let links: String = BOOKS
                .iter()
                .map(|b| format!("<li><a href=\"/{b}/index.html\">{b}</a></li>"))
                .collect();
            return Ok(Response::builder().content_type("text/html").body(format!(
                "<html><body><h1>Docs</h1><ul>{links}</ul></body></html>"
            )));
        }
        let book = path.split('/').next().unwrap_or_default();
        let rest = path[book.len()..].trim_start_matches('/');
        let translated = ["es/", "ja/", "ko/", "zh/"]
            .iter()
            .any(|t| rest.starts_with(t));
        if !BOOKS.contains(&book)
            || path.contains("..")
            || translated
            || rest == "print.html"
            || rest == "toc.html"
        {
            return Ok(not_found());
        }
        let file = self.root.join(&path);
        let file = if file.is_dir() {
            file.join("index.html")
        } else {
            file
        };
        match tokio::fs::read(&file).await {
            Ok(bytes) => {
                let ct = match file.extension().and_then(|e| e.to_str()) {
                    Some("html") => "text/html; charset=utf-8",
                    Some("css") => "text/css",
                    Some("js") => "application/javascript",
                    _ => "application/octet-stream",
                };
                Ok(Response::builder().content_type(ct).body(bytes))
            }
            Err(_) => Ok(not_found()),
        }
    }
}

fn docs_root() -> PathBuf {
    if let Ok(d) = std::env::var("BENCH_DOCS") {
        return PathBuf::from(d);
    }
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    PathBuf::from(sysroot).join("share/doc/rust/html")
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

/// Whether `url` is one of the expected pages (paths relative to the docs root).
fn matches(url: &str, pages: &[String]) -> bool {
    let path = url.split_once("://").map_or(url, |x| x.1);
    let path = path.split_once('/').map_or("", |x| x.1);
    let path = path.split(['#', '?']).next().unwrap_or_default();
    pages.iter().any(|p| {
        path == p || (p.ends_with("index.html") && path == p.trim_end_matches("index.html"))
    })
}

struct State {
    key: String,
    agent_id: String,
}

async fn start(dir: &Path) -> anyhow::Result<Running> {
    let model_dir = format!(
        "{}/target/test-models/all-MiniLM-L6-v2",
        env!("CARGO_MANIFEST_DIR")
    );
    let vars: HashMap<&str, String> = HashMap::from([
        ("OTOQ_DATA_DIR", dir.display().to_string()),
        ("OTOQ_BIND", "127.0.0.1:0".into()),
        ("OTOQ_EMBEDDER", "minilm".into()),
        ("OTOQ_EMBEDDER_MODEL_DIR", model_dir),
        ("OTOQ_ALLOW_PRIVATE_NETWORKS", "true".into()),
        ("OTOQ_RATE_LIMIT_ENTERPRISE", "100000000".into()),
        ("OTOQ_QUEUE_POLL_MS", "200".into()),
        ("OTOQ_CRAWL_CONCURRENCY", "8".into()),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned())?;
    startup::start(config, Role::Serve).await
}

async fn ingest(app: &Running, base: &str, docs: &str, dir: &Path) -> anyhow::Result<State> {
    let state_file = dir.join("bench-state.json");
    if let Ok(s) = std::fs::read_to_string(&state_file) {
        let v: Value = serde_json::from_str(&s)?;
        return Ok(State {
            key: v["key"].as_str().unwrap_or_default().into(),
            agent_id: v["agent_id"].as_str().unwrap_or_default().into(),
        });
    }
    let created =
        otoq_core::accounts::create(&app.ctx.db, "bench@example.com", None, Plan::Enterprise)
            .await?;
    let key = created.key.plaintext;
    let http = reqwest::Client::new();
    let agent: Value = http
        .post(format!("{base}/api/v1/agents"))
        .bearer_auth(&key)
        .json(&json!({"name": "Docs"}))
        .send()
        .await?
        .json()
        .await?;
    let agent_id = agent["data"]["id"]
        .as_str()
        .context("agent id")?
        .to_string();
    let started = Instant::now();
    let source: Value = http
        .post(format!("{base}/api/v1/agents/{agent_id}/sources"))
        .bearer_auth(&key)
        .json(
            &json!({"type": "url", "url": format!("{docs}/"), "max_pages": 5000, "max_depth": 20}),
        )
        .send()
        .await?
        .json()
        .await?;
    let source_id = source["data"]["id"]
        .as_str()
        .context("source id")?
        .to_string();
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let s: Value = http
            .get(format!("{base}/api/v1/sources/{source_id}"))
            .bearer_auth(&key)
            .send()
            .await?
            .json()
            .await?;
        let d = &s["data"];
        eprintln!(
            "  ingesting: {} after {:.0}s, pages {}/{}, chunks {}",
            d["status"],
            started.elapsed().as_secs_f64(),
            d["progress"]["done"],
            d["progress"]["found"],
            d["progress"]["chunks"]
        );
        match d["status"].as_str() {
            Some("ready") => break,
            Some("failed") => anyhow::bail!("ingestion failed: {}", d["error"]),
            _ => {}
        }
    }
    println!("ingested in {:.0} s", started.elapsed().as_secs_f64());
    std::fs::write(
        &state_file,
        json!({"key": key, "agent_id": agent_id}).to_string(),
    )?;
    Ok(State { key, agent_id })
}

/// Copies the agent's passages (text shuffled by sentence, vector nudged) until it has `target`.
async fn pad(app: &Running, agent_id: uuid::Uuid, target: usize) -> anyhow::Result<usize> {
    use otoq_entities::chunks;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
    let rows = chunks::Entity::find()
        .filter(chunks::Column::AgentId.eq(agent_id))
        .filter(chunks::Column::Active.eq(true))
        .all(&app.ctx.db)
        .await?;
    let have = rows.len();
    if have == 0 || have >= target {
        return Ok(have);
    }
    let mut made = have;
    let mut round = 0u32;
    let db = &app.ctx.db;
    while made < target {
        round += 1;
        let txn = db.begin().await?;
        let mut batch = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if made >= target {
                break;
            }
            let mut sentences: Vec<&str> = r.text.split(". ").collect();
            let len = sentences.len().max(1);
            sentences.rotate_left((round as usize + i) % len);
            let embedding = r.embedding.as_ref().map(|b| {
                let mut v = otoq_core::knowledge::store::bytes_vector(b);
                for (j, x) in v.iter_mut().enumerate() {
                    *x += (((j as u32 * 2654435761u32) ^ (round * 40503 + i as u32)) % 1000) as f32
                        / 1000.0
                        * 0.08
                        - 0.04;
                }
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= n);
                otoq_core::knowledge::store::vector_bytes(&v)
            });
            batch.push(chunks::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                url: Set(Some(format!("synthetic://copy/{round}/{i}"))),
                text: Set(sentences.join(". ")),
                embedding: Set(embedding),
                ..chunks::ActiveModel::from(r.clone())
            });
            made += 1;
            if batch.len() == 500 {
                chunks::Entity::insert_many(std::mem::take(&mut batch))
                    .exec(&txn)
                    .await?;
            }
        }
        if !batch.is_empty() {
            chunks::Entity::insert_many(batch).exec(&txn).await?;
        }
        txn.commit().await?;
    }
    use sea_orm::ConnectionTrait;
    db.execute_raw(otoq_core::db::statement(
        db,
        "UPDATE agents SET knowledge_version = knowledge_version + 1 WHERE id = {}",
        [agent_id.into()],
    ))
    .await?;
    Ok(made)
}

#[derive(Default)]
struct Figures {
    retrieval: Vec<Duration>,
    chat: Vec<Duration>,
    hit1: usize,
    hit5: usize,
    answerable: usize,
    answered: usize,
    answered_wrong: usize,
    refused: usize,
    unanswerable: usize,
}

async fn run(
    app: &Running,
    base: &str,
    st: &State,
    qs: &Value,
    verbose: bool,
    label: &str,
) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let agent: uuid::Uuid = st.agent_id.parse()?;
    let mut f = Figures::default();
    let ask = |q: String| {
        let http = http.clone();
        let key = st.key.clone();
        let agent_id = st.agent_id.clone();
        async move {
            let t = Instant::now();
            let v: Value = http
                .post(format!("{base}/api/v1/chat"))
                .bearer_auth(key)
                .json(&json!({"agent_id": agent_id, "message": q}))
                .send()
                .await?
                .json()
                .await?;
            anyhow::Ok((t.elapsed(), v))
        }
    };
    // Warm up: the index loads on first use.
    otoq_core::retrieval::search(&app.ctx, agent, "warm up", 5).await?;
    ask("warm up".into()).await?;
    let mut scores = Vec::new();
    for item in qs["answerable"].as_array().context("answerable")? {
        let q = item["q"].as_str().unwrap_or_default().to_string();
        let pages: Vec<String> = serde_json::from_value(item["pages"].clone())?;
        let t = Instant::now();
        let r = otoq_core::retrieval::search(&app.ctx, agent, &q, 5).await?;
        f.retrieval.push(t.elapsed());
        let urls: Vec<String> = r
            .passages
            .iter()
            .map(|p| p.url.clone().unwrap_or_default())
            .collect();
        let h1 = urls.first().is_some_and(|u| matches(u, &pages));
        let h5 = urls.iter().any(|u| matches(u, &pages));
        f.hit1 += h1 as usize;
        f.hit5 += h5 as usize;
        f.answerable += 1;
        let (elapsed, v) = ask(q.clone()).await?;
        f.chat.push(elapsed);
        let d = &v["data"];
        let answered = d["answered"].as_bool().unwrap_or(false);
        let cited: Vec<String> = d["sources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s["url"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let right = cited.iter().any(|u| matches(u, &pages));
        if answered {
            f.answered += 1;
            if !right {
                f.answered_wrong += 1;
            }
        }
        scores.push((r.confidence(), true, h1));
        if verbose {
            println!(
                "  [{label}] {} h1={} h5={} conf={:.3} answered={} right={} | {q}\n      top: {}",
                if answered && !right { "WRONG" } else { "" },
                h1,
                h5,
                r.confidence(),
                answered,
                right,
                urls.first().cloned().unwrap_or_default()
            );
        }
    }
    for q in qs["unanswerable"].as_array().context("unanswerable")? {
        let q = q.as_str().unwrap_or_default().to_string();
        let t = Instant::now();
        let r = otoq_core::retrieval::search(&app.ctx, agent, &q, 5).await?;
        f.retrieval.push(t.elapsed());
        let (elapsed, v) = ask(q.clone()).await?;
        f.chat.push(elapsed);
        f.unanswerable += 1;
        let refused = v["data"]["answered"] == false && v["data"]["handoff_offered"] == true;
        f.refused += refused as usize;
        scores.push((r.confidence(), false, false));
        if verbose {
            println!(
                "  [{label}] {} conf={:.3} | {q}",
                if refused { "refused" } else { "ANSWERED" },
                r.confidence()
            );
        }
    }
    trade_off(&scores, otoq_core::answer::threshold(true));
    if verbose {
        scores.sort_by(|a, b| a.0.total_cmp(&b.0));
        let line: Vec<String> = scores
            .iter()
            .map(|(s, a, h)| {
                format!(
                    "{s:.2}{}",
                    if *a { if *h { "+" } else { "~" } } else { "-" }
                )
            })
            .collect();
        println!(
            "  confidence (+ answerable hit@1, ~ answerable miss, - unanswerable): {}",
            line.join(" ")
        );
    }
    Ok(f)
}

/// Prints, per gate threshold, the share of answerable questions that would be answered and of
/// unanswerable ones that would be refused; `*` marks the configured threshold.
fn trade_off(scores: &[(f32, bool, bool)], chosen: f32) {
    let (pos, neg): (Vec<&(f32, bool, bool)>, Vec<_>) = scores.iter().partition(|s| s.1);
    if pos.is_empty() || neg.is_empty() {
        return;
    }
    println!("gate trade-off (threshold: answered answerable / refused unanswerable):");
    let mut line = String::new();
    for i in 0..=12 {
        let t = 0.3 + 0.04 * i as f32;
        let answered = pos.iter().filter(|s| s.0 >= t).count() as f32 / pos.len() as f32;
        let refused = neg.iter().filter(|s| s.0 < t).count() as f32 / neg.len() as f32;
        let mark = if (t - chosen).abs() < 0.02 { "*" } else { "" };
        line.push_str(&format!("  {mark}{t:.2}: {answered:.2}/{refused:.2}"));
    }
    println!("{line}");
}

fn report(label: &str, passages: usize, f: &mut Figures) {
    println!("\n== {label}: {passages} passages ==");
    if f.answerable > 0 {
        println!(
            "retrieval hit@1 {:.3}  hit@5 {:.3}  ({} answerable)",
            f.hit1 as f64 / f.answerable as f64,
            f.hit5 as f64 / f.answerable as f64,
            f.answerable
        );
        println!(
            "extractive answerer: answered {}/{} answerable, answered-but-wrong {}",
            f.answered, f.answerable, f.answered_wrong
        );
    }
    if f.unanswerable > 0 {
        println!(
            "refusal on unanswerable {:.3} ({}/{})",
            f.refused as f64 / f.unanswerable as f64,
            f.refused,
            f.unanswerable
        );
    }
    println!(
        "latency ms: retrieval p50 {:.2} p95 {:.2} | chat (POST /chat, no LLM) p50 {:.2} p95 {:.2}",
        percentile(&mut f.retrieval, 0.5),
        percentile(&mut f.retrieval, 0.95),
        percentile(&mut f.chat, 0.5),
        percentile(&mut f.chat, 0.95)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = docs_root();
    anyhow::ensure!(
        root.join("reference/index.html").exists(),
        "no toolchain docs at {} (set BENCH_DOCS)",
        root.display()
    );
    let listener = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let docs_addr = listener.local_addr()[0]
        .as_socket_addr()
        .cloned()
        .context("docs address")?;
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(listener)
            .run(Docs { root })
            .await;
    });
    let docs = format!("http://{docs_addr}");
    let dir = PathBuf::from(
        std::env::var("BENCH_DIR")
            .unwrap_or_else(|_| format!("{}/target/bench-chat", env!("CARGO_MANIFEST_DIR"))),
    );
    std::fs::create_dir_all(&dir)?;
    let app = start(&dir).await?;
    let base = format!("http://{}", app.addr.context("API address")?);
    let st = ingest(&app, &base, &docs, &dir).await?;
    let qs: Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{}/benches/chat/questions.json",
        env!("CARGO_MANIFEST_DIR")
    ))?)?;
    let verbose = std::env::var("BENCH_VERBOSE").is_ok_and(|v| v == "1");
    let agent: uuid::Uuid = st.agent_id.parse()?;
    let index = app
        .ctx
        .search
        .get(&app.ctx.db, agent, Some("minilm-l6-v2"))
        .await?;
    let real = index.ids.len();
    let mut f = run(&app, &base, &st, &qs, verbose, "real").await?;
    report("documentation as ingested", real, &mut f);

    let target: usize = std::env::var("BENCH_PAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    if target > real {
        let t = Instant::now();
        let n = pad(&app, agent, target).await?;
        let idx = app
            .ctx
            .search
            .get(&app.ctx.db, agent, Some("minilm-l6-v2"))
            .await?;
        eprintln!(
            "padded to {n} passages in {:.0} s (index {})",
            t.elapsed().as_secs_f64(),
            idx.ids.len()
        );
        let mut f = run(&app, &base, &st, &qs, false, "padded").await?;
        report(
            "padded with near-duplicate passages (latency; hit rates suffer from the copies)",
            idx.ids.len(),
            &mut f,
        );
        // Leave the real corpus for the next run.
        use sea_orm::ConnectionTrait;
        let db = &app.ctx.db;
        db.execute_unprepared("DELETE FROM chunks WHERE url LIKE 'synthetic://%'")
            .await?;
        db.execute_raw(otoq_core::db::statement(
            db,
            "UPDATE agents SET knowledge_version = knowledge_version + 1 WHERE id = {}",
            [agent.into()],
        ))
        .await?;
    }
    Ok(())
}

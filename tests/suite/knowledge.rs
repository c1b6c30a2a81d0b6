//! Knowledge sources: texts, Q&A, websites and documents become chunks (and embeddings);
//! re-syncs touch only what changed; failures are clear; nothing crosses accounts.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::support::site::{Page, Site, article};
use crate::support::{Backend, Reply, TestApp, spawn_app, spawn_app_with};

both_backends!(
    text_and_qa_sources_become_chunks,
    website_is_crawled_politely,
    resync_reembeds_only_what_changed
);

async fn agent(app: &TestApp) -> (String, String) {
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Docs bot").await;
    (key, agent["id"].as_str().unwrap().to_string())
}

async fn active_chunks(app: &TestApp, source_id: &str) -> Vec<otoq_entities::chunks::Model> {
    let id: Uuid = source_id.parse().unwrap();
    otoq_entities::chunks::Entity::find()
        .filter(otoq_entities::chunks::Column::SourceId.eq(id))
        .filter(otoq_entities::chunks::Column::Active.eq(true))
        .all(&app.ctx().db)
        .await
        .unwrap()
}

async fn text_and_qa_sources_become_chunks(b: Backend) {
    let app = spawn_app(b).await;
    let (key, agent_id) = agent(&app).await;
    let long: String = (0..300)
        .map(|i| format!("Sentence number {i} explains the return policy in detail. "))
        .collect();
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "text", "title": "Returns", "content": long}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["data"]["status"], "queued");
    assert_eq!(r.body["data"]["type"], "text");
    let text_id = r.body["data"]["id"].as_str().unwrap().to_string();

    let pairs: Vec<Value> = (0..3)
        .map(|i| json!({"question": format!("Question {i}?"), "answer": format!("Answer {i}.")}))
        .collect();
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "qa", "pairs": pairs}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let qa_id = r.body["data"]["id"].as_str().unwrap().to_string();

    let text = app.settled_source(&key, &text_id).await;
    assert_eq!(text["status"], "ready", "{text}");
    assert!(text["last_synced_at"].is_string());
    let chunks = active_chunks(&app, &text_id).await;
    assert!(chunks.len() >= 2, "a long text is split: {}", chunks.len());
    assert!(
        chunks
            .iter()
            .all(|c| c.tokens <= 400 && c.title == "Returns")
    );
    assert_eq!(text["progress"]["chunks"], chunks.len());

    let qa = app.settled_source(&key, &qa_id).await;
    assert_eq!(qa["status"], "ready", "{qa}");
    let chunks = active_chunks(&app, &qa_id).await;
    assert_eq!(chunks.len(), 3, "each pair stays whole");
    assert!(
        chunks
            .iter()
            .any(|c| c.text.contains("Question 1?") && c.text.contains("Answer 1."))
    );

    let list = app
        .get(&format!("/api/v1/agents/{agent_id}/sources"), &key)
        .await;
    assert_eq!(list.body["meta"]["total"], 2);

    // Validation names the field.
    for (body, field) in [
        (json!({"type": "text", "title": "x"}), "content"),
        (json!({"type": "web", "url": "https://x.io"}), "type"),
        (json!({"url": "https://x.io"}), "type"),
        (json!({"type": "url", "url": "notaurl"}), "url"),
        (
            json!({"type": "url", "url": "https://x.io", "max_pages": 0}),
            "max_pages",
        ),
        (json!({"type": "qa", "pairs": []}), "pairs"),
        (
            json!({"type": "qa", "pairs": [{"question": "q"}]}),
            "answer",
        ),
        (
            json!({"type": "text", "title": "t", "content": "c", "extra": 1}),
            "extra",
        ),
    ] {
        let r = app
            .post(
                &format!("/api/v1/agents/{agent_id}/sources"),
                &key,
                body.clone(),
            )
            .await;
        let msg = r.assert_error(400, "validation_error");
        assert!(msg.contains(field), "{body}: {msg}");
    }

    // Deleting a source takes its chunks out of search at once.
    assert_eq!(
        app.delete(&format!("/api/v1/sources/{qa_id}"), &key)
            .await
            .status,
        200
    );
    assert!(active_chunks(&app, &qa_id).await.is_empty());
    app.get(&format!("/api/v1/sources/{qa_id}"), &key)
        .await
        .assert_error(404, "not_found");
}

fn docs_site() -> Vec<(&'static str, Page)> {
    vec![
        (
            "/",
            article(
                "Home",
                "Welcome to the Acme documentation home page.",
                &[
                    "/guide/",
                    "/private/secret.html",
                    "/broken",
                    "/slow",
                    "/file.zip",
                    "https://elsewhere.example/",
                ],
            ),
        ),
        (
            "/guide/",
            article(
                "Guide",
                "The guide explains installation of the Acme widget.",
                &["/guide/install", "/"],
            ),
        ),
        (
            "/guide/install",
            article(
                "Install",
                "Run acme-install to install the widget on Linux.",
                &["/guide/install/advanced"],
            ),
        ),
        (
            "/guide/install/advanced",
            article("Advanced", "Advanced installs use the --prefix flag.", &[]),
        ),
        (
            "/orphan",
            article(
                "Orphan",
                "This page is only listed in the sitemap and covers refunds.",
                &[],
            ),
        ),
        (
            "/private/secret.html",
            article("Secret", "Top secret content that robots forbid.", &[]),
        ),
        (
            "/slow",
            article("Slow", "A very slow page.", &[]).slow(Duration::from_secs(30)),
        ),
        ("/file.zip", Page::typed("application/zip", "PK\u{3}\u{4}")),
        (
            "/robots.txt",
            Page::typed("text/plain", "User-agent: *\nDisallow: /private/\n"),
        ),
        ("/sitemap.xml", Page::typed("application/xml", "")),
    ]
}

async fn website_is_crawled_politely(b: Backend) {
    let site = Site::start(docs_site()).await;
    site.set(
        "/sitemap.xml",
        Page::typed(
            "application/xml",
            format!("<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>{}/orphan</loc></url></urlset>", site.base),
        ),
    );
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_CRAWL_CONCURRENCY", "4");
    })
    .await;
    let (key, agent_id) = agent(&app).await;
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "url", "url": format!("{}/", site.base)}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let source = app.settled_source(&key, &id).await;
    assert_eq!(source["status"], "ready", "{source}");
    assert!(
        started.elapsed() < Duration::from_secs(29),
        "the slow page did not stall the crawl"
    );
    let docs = otoq_entities::documents::Entity::find()
        .filter(otoq_entities::documents::Column::SourceId.eq(id.parse::<Uuid>().unwrap()))
        .all(&app.ctx().db)
        .await
        .unwrap();
    let urls: Vec<String> = docs.iter().filter_map(|d| d.url.clone()).collect();
    for path in [
        "/",
        "/guide/",
        "/guide/install",
        "/guide/install/advanced",
        "/orphan",
    ] {
        assert!(
            urls.iter().any(|u| u == &format!("{}{path}", site.base)),
            "{path} crawled: {urls:?}"
        );
    }
    assert!(
        !urls.iter().any(|u| u.contains("private")),
        "robots.txt obeyed: {urls:?}"
    );
    assert!(
        !site.hits().iter().any(|h| h.starts_with("/private")),
        "the forbidden page was never fetched"
    );
    assert!(
        !urls
            .iter()
            .any(|u| u.contains("file.zip") || u.contains("elsewhere"))
    );
    let progress = &source["progress"];
    assert_eq!(progress["done"], 5, "{source}");
    assert!(
        progress["failed"].as_i64().unwrap() >= 1,
        "broken and slow pages counted: {source}"
    );
    let chunks = active_chunks(&app, &id).await;
    assert!(chunks.iter().any(|c| c.text.contains("acme-install")));
    assert!(
        chunks
            .iter()
            .all(|c| !c.text.contains("Copyright Example Corp")),
        "footer dropped"
    );
}

async fn resync_reembeds_only_what_changed(b: Backend) {
    let site = Site::start(vec![
        (
            "/",
            article(
                "Home",
                "Home page about shipping times.",
                &["/a", "/b", "/c"],
            ),
        ),
        (
            "/a",
            article("A", "Page A says shipping takes three days.", &[]),
        ),
        ("/b", article("B", "Page B says returns are free.", &[])),
        ("/c", article("C", "Page C lists store hours.", &[])),
    ])
    .await;
    let app = spawn_app(b).await;
    let (key, agent_id) = agent(&app).await;
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "url", "url": site.base}),
        )
        .await;
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(app.settled_source(&key, &id).await["status"], "ready");
    let before = active_chunks(&app, &id).await;
    assert_eq!(
        before
            .iter()
            .map(|c| c.document_id)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        4
    );

    site.set(
        "/a",
        article("A", "Page A now says shipping takes five days.", &[]),
    );
    site.remove("/c");
    let r = app
        .post(&format!("/api/v1/sources/{id}/resync"), &key, json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let after_source = app.settled_source(&key, &id).await;
    assert_eq!(after_source["status"], "ready", "{after_source}");
    let after = active_chunks(&app, &id).await;
    let text_of = |chunks: &[otoq_entities::chunks::Model], needle: &str| {
        chunks
            .iter()
            .find(|c| c.text.contains(needle))
            .map(|c| c.id)
    };
    assert!(
        text_of(&after, "five days").is_some(),
        "changed page re-indexed"
    );
    assert!(text_of(&after, "three days").is_none(), "old version gone");
    assert!(
        text_of(&after, "store hours").is_none(),
        "vanished page removed"
    );
    assert_eq!(
        text_of(&before, "returns are free"),
        text_of(&after, "returns are free"),
        "unchanged page kept its chunk"
    );
    assert_eq!(text_of(&before, "Home page"), text_of(&after, "Home page"));
}

both_backends!(documents_of_every_type, another_accounts_sources_are_404);

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/documents");

async fn upload(app: &TestApp, key: &str, agent_id: &str, filename: &str, bytes: Vec<u8>) -> Reply {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = app
        .client
        .post(format!(
            "{}/api/v1/agents/{agent_id}/sources/upload",
            app.base
        ))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

async fn documents_of_every_type(b: Backend) {
    let app = spawn_app(b).await;
    let (key, agent_id) = agent(&app).await;
    let mut good = vec![
        ("notes.txt", b"Our support line is open from 9 to 5.\n\nCall us any weekday.".to_vec(), "support line"),
        ("guide.md", b"# Guide\n\n## Setup\n\nInstall the **Acme** tool first.\n".to_vec(), "Install the Acme tool"),
        ("page.html", b"<html><head><title>Policy</title></head><body><nav>menu</nav><main><h1>Policy</h1><p>Refunds within 30 days.</p></main></body></html>".to_vec(), "Refunds within 30 days"),
        ("prices.csv", b"product,price\nWidget,10 EUR\nGadget,25 EUR\n".to_vec(), "Gadget"),
    ];
    for name in ["ghostscript-2p.pdf", "reportlab-2p.pdf", "sample.docx"] {
        good.push((
            name,
            std::fs::read(format!("{FIXTURES}/{name}")).unwrap(),
            "",
        ));
    }
    let mut ids = Vec::new();
    for (name, bytes, _) in &good {
        let r = upload(&app, &key, &agent_id, name, bytes.clone()).await;
        assert_eq!(r.status, 202, "{name}: {}", r.body);
        assert_eq!(r.body["data"]["type"], "file");
        ids.push(r.body["data"]["id"].as_str().unwrap().to_string());
    }
    let bad: Vec<(String, Vec<u8>)> = [
        "truncated.pdf",
        "zip-renamed.pdf",
        "encrypted-user-pw.pdf",
        "corrupt.docx",
    ]
    .into_iter()
    .map(|n| {
        (
            n.to_string(),
            std::fs::read(format!("{FIXTURES}/{n}")).unwrap(),
        )
    })
    .collect();
    let mut bad_ids = Vec::new();
    for (name, bytes) in &bad {
        let r = upload(&app, &key, &agent_id, name, bytes.clone()).await;
        assert_eq!(r.status, 202, "{name}: {}", r.body);
        bad_ids.push((
            name.clone(),
            r.body["data"]["id"].as_str().unwrap().to_string(),
        ));
    }
    // Every good document becomes ready, with chunks holding its text.
    for ((name, _, needle), id) in good.iter().zip(&ids) {
        let s = app.settled_source(&key, id).await;
        assert_eq!(s["status"], "ready", "{name}: {s}");
        let chunks = active_chunks(&app, id).await;
        assert!(!chunks.is_empty(), "{name}");
        if !needle.is_empty() {
            assert!(
                chunks.iter().any(|c| c.text.contains(needle)),
                "{name} holds {needle:?}"
            );
        }
    }
    // Every bad one fails with a sentence, and the worker kept going (a later good upload works).
    for (name, id) in &bad_ids {
        let s = app.settled_source(&key, id).await;
        assert_eq!(s["status"], "failed", "{name}: {s}");
        let error = s["error"].as_str().unwrap_or_default();
        assert!(
            error.len() > 10 && !error.contains("panicked"),
            "{name}: {error}"
        );
    }
    let after = upload(
        &app,
        &key,
        &agent_id,
        "after.txt",
        b"Still working after bad files.".to_vec(),
    )
    .await;
    let s = app
        .settled_source(&key, after.body["data"]["id"].as_str().unwrap())
        .await;
    assert_eq!(s["status"], "ready");
    // Unsupported types are accepted, and fail with a reason.
    let r = upload(&app, &key, &agent_id, "tool.exe", b"MZ".to_vec()).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let s = app
        .settled_source(&key, r.body["data"]["id"].as_str().unwrap())
        .await;
    assert_eq!(s["status"], "failed");
    assert!(
        s["error"].as_str().unwrap().contains("not supported"),
        "{s}"
    );
}

async fn another_accounts_sources_are_404(b: Backend) {
    let app = spawn_app(b).await;
    let (alice, agent_id) = agent(&app).await;
    let bob = app.pro_key().await;
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &alice,
            json!({"type": "text", "title": "t", "content": "c"}),
        )
        .await;
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/sources/{id}"), &bob)
        .await
        .assert_error(404, "not_found");
    app.post(&format!("/api/v1/sources/{id}/resync"), &bob, json!({}))
        .await
        .assert_error(404, "not_found");
    app.delete(&format!("/api/v1/sources/{id}"), &bob)
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/api/v1/agents/{agent_id}/sources"), &bob)
        .await
        .assert_error(404, "not_found");
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &bob,
            json!({"type": "text", "title": "t", "content": "c"}),
        )
        .await;
    r.assert_error(404, "not_found");
    assert_eq!(
        app.get(&format!("/api/v1/sources/{id}"), &alice)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_allowed() {
    let site = Site::start(vec![("/", article("Home", "Internal wiki.", &[]))]).await;
    let app = spawn_app_with(Backend::Sqlite, |e| {
        e.set("OTOQ_ALLOW_PRIVATE_NETWORKS", "false");
    })
    .await;
    let (key, agent_id) = agent(&app).await;
    for url in [
        site.base.clone(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://2130706433/".into(),
    ] {
        let r = app
            .post(
                &format!("/api/v1/agents/{agent_id}/sources"),
                &key,
                json!({"type": "url", "url": url}),
            )
            .await;
        let msg = r.assert_error(400, "validation_error");
        assert!(
            msg.contains("url")
                && (msg.contains("private")
                    || msg.contains("not allowed")
                    || msg.contains("format")),
            "{url}: {msg}"
        );
    }
    assert!(site.hits().is_empty(), "nothing was fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_the_limit_are_413() {
    let app = spawn_app_with(Backend::Sqlite, |e| {
        e.set("OTOQ_MAX_UPLOAD_BYTES", "2000");
    })
    .await;
    let (key, agent_id) = agent(&app).await;
    let r = upload(&app, &key, &agent_id, "big.txt", vec![b'a'; 5000]).await;
    r.assert_error(413, "payload_too_large");
    let r = upload(&app, &key, &agent_id, "small.txt", b"fine".to_vec()).await;
    assert_eq!(r.status, 202);
}

/// The offline embedder runs with fetching disabled (no network at run time) and stores a
/// normalised 384-dimension vector per chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_embeddings_are_stored() {
    let app = spawn_app_with(Backend::Sqlite, |e| {
        e.with_embedder().set("OTOQ_EMBEDDER_FETCH", "false");
    })
    .await;
    let (key, agent_id) = agent(&app).await;
    let r = app
        .post(&format!("/api/v1/agents/{agent_id}/sources"), &key, json!({"type": "text", "title": "Hours", "content": "We are open from 9 to 5 on weekdays."}))
        .await;
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(app.settled_source(&key, &id).await["status"], "ready");
    let chunks = active_chunks(&app, &id).await;
    assert!(!chunks.is_empty());
    for c in &chunks {
        let v = otoq_core::knowledge::store::bytes_vector(
            c.embedding.as_deref().expect("embedding stored"),
        );
        assert_eq!(v.len(), 384);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "normalised: {norm}");
        assert_eq!(c.embedding_model.as_deref(), Some("minilm-l6-v2"));
    }
}

/// A worker killed in the middle of a crawl loses nothing: the next worker finishes the source,
/// reusing what was staged, with no duplicate chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_mid_crawl_finishes_without_duplicates() {
    use crate::support::TestEnv;
    use crate::support::process::{run_otoq, spawn_otoq};
    let mut pages: Vec<(String, Page)> = Vec::new();
    let links: Vec<String> = (0..40).map(|i| format!("/p{i}")).collect();
    let link_refs: Vec<&str> = links.iter().map(String::as_str).collect();
    pages.push((
        "/".into(),
        article("Home", "Index of forty pages.", &link_refs),
    ));
    for i in 0..40 {
        let page = article(
            &format!("Page {i}"),
            &format!("Fact number {i} is unique."),
            &[],
        )
        .slow(Duration::from_millis(400));
        pages.push((format!("/p{i}"), page));
    }
    let site = Site::start(
        pages
            .iter()
            .map(|(p, pg)| (p.as_str(), pg.clone()))
            .collect(),
    )
    .await;
    let mut env = TestEnv::new(Backend::Postgres).await;
    env.set("OTOQ_JOB_LEASE_SECS", "2")
        .set("OTOQ_CRAWL_CONCURRENCY", "2");
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
    let agent = client
        .post(format!("{base}/api/v1/agents"))
        .bearer_auth(&key)
        .json(&json!({"name": "k"}))
        .send()
        .await
        .unwrap();
    let agent_id = Reply::from(agent).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{base}/api/v1/agents/{agent_id}/sources"))
        .bearer_auth(&key)
        .json(&json!({"type": "url", "url": site.base}))
        .send()
        .await
        .unwrap();
    let id = Reply::from(r).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let get = || async {
        Reply::from(
            client
                .get(format!("{base}/api/v1/sources/{id}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await
        .body["data"]
            .clone()
    };
    let mut first = spawn_otoq(&env, "worker").await;
    let midway = crate::support::eventually(60, || async {
        get().await["progress"]["done"].as_i64().unwrap_or(0) >= 5
    })
    .await;
    assert!(midway, "the first worker made progress");
    first.child.start_kill().unwrap();
    let _ = first.child.wait().await;
    assert_ne!(get().await["status"], "ready", "killed before the end");
    let _second = spawn_otoq(&env, "worker").await;
    let done = crate::support::eventually(90, || async { get().await["status"] == "ready" }).await;
    assert!(
        done,
        "the second worker finished the source: {}",
        get().await
    );
    let db = otoq_core::db::connect(&env.vars["DATABASE_URL"], 2)
        .await
        .unwrap();
    let chunks = otoq_entities::chunks::Entity::find()
        .filter(otoq_entities::chunks::Column::SourceId.eq(id.parse::<Uuid>().unwrap()))
        .all(&db)
        .await
        .unwrap();
    assert!(chunks.iter().all(|c| c.active), "nothing left staged");
    for i in 0..40 {
        let n = chunks
            .iter()
            .filter(|c| c.text.contains(&format!("Fact number {i} is unique.")))
            .count();
        assert_eq!(n, 1, "page {i} indexed exactly once");
    }
}

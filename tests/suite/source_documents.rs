//! The pages and files of a source: compressed pages (gzip, deflate, br) are decoded with a
//! cap on the decoded size, and `GET /sources/{id}/documents` tells each one's status and
//! failure reason, to its own account only.

use std::io::Write;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::support::site::{Page, Site, article};
use crate::support::{Backend, Reply, TestApp, spawn_app};

both_backends!(
    compressed_pages_are_read_and_a_bomb_fails_only_its_page,
    a_sources_documents_are_listed_with_their_status
);

fn html(page: &Page) -> Vec<u8> {
    page.body.as_bytes().to_vec()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// A page of 32 MiB (over the 5 MiB page cap) that travels as about 32 KB of gzip.
fn bomb() -> Page {
    let mut page = b"<html><body><p>".to_vec();
    page.resize(32 << 20, b' ');
    page.extend_from_slice(b"bombword</p></body></html>");
    Page::compressed("gzip", gzip(&page))
}

async fn crawl(app: &TestApp, key: &str, site: &Site) -> (String, Value) {
    let agent = app.create_agent(key, "Docs").await;
    let agent_id = agent["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            key,
            json!({"type": "url", "url": format!("{}/", site.base)}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    let source = app.settled_source(key, &id).await;
    (id, source)
}

async fn chunk_texts(app: &TestApp, source_id: &str) -> Vec<String> {
    otoq_entities::chunks::Entity::find()
        .filter(otoq_entities::chunks::Column::SourceId.eq(source_id.parse::<Uuid>().unwrap()))
        .filter(otoq_entities::chunks::Column::Active.eq(true))
        .all(&app.ctx().db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.text)
        .collect()
}

async fn compressed_pages_are_read_and_a_bomb_fails_only_its_page(b: Backend) {
    let gz = article("Gzip page", "The gzipword lives on a gzip page.", &[]);
    let df = article(
        "Deflate page",
        "The deflateword lives on a deflate page.",
        &[],
    );
    let br = article("Brotli page", "The brotliword lives on a brotli page.", &[]);
    let site = Site::start(vec![
        (
            "/",
            article(
                "Home",
                "Welcome home.",
                &["/gz", "/deflate", "/br", "/bomb"],
            ),
        ),
        ("/gz", Page::compressed("gzip", gzip(&html(&gz)))),
        ("/deflate", Page::compressed("deflate", zlib(&html(&df)))),
        ("/br", Page::compressed("br", brotli(&html(&br)))),
        ("/bomb", bomb()),
    ])
    .await;
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let (id, source) = crawl(&app, &key, &site).await;
    assert_eq!(source["status"], "ready", "{source}");
    assert_eq!(source["progress"]["done"], 4, "{source}");
    assert_eq!(
        source["progress"]["failed"], 1,
        "only the bomb failed: {source}"
    );
    let texts = chunk_texts(&app, &id).await;
    for word in ["gzipword", "deflateword", "brotliword"] {
        assert!(
            texts.iter().any(|t| t.contains(word)),
            "{word} indexed as text: {texts:?}"
        );
    }
    assert!(
        texts
            .iter()
            .all(|t| !t.contains('\u{FFFD}') && !t.contains("bombword")),
        "no mojibake, nothing of the bomb: {texts:?}"
    );
}

async fn documents(app: &TestApp, key: &str, id: &str, query: &str) -> Reply {
    app.get(&format!("/api/v1/sources/{id}/documents{query}"), key)
        .await
}

async fn a_sources_documents_are_listed_with_their_status(b: Backend) {
    let site = Site::start(vec![
        (
            "/",
            article("Home", "Welcome home.", &["/ok", "/missing", "/bomb"]),
        ),
        ("/ok", article("Fine", "A page that reads well.", &[])),
        ("/bomb", bomb()),
    ])
    .await;
    let app = spawn_app(b).await;
    let key = app.pro_key().await;
    let (id, source) = crawl(&app, &key, &site).await;
    assert_eq!(source["status"], "ready", "{source}");
    let all = documents(&app, &key, &id, "").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["meta"]["total"], 4, "{}", all.body);
    let items = all.body["data"].as_array().unwrap().clone();
    let by_url = |path: &str| -> Value {
        let url = format!("{}{path}", site.base);
        items
            .iter()
            .find(|d| d["url"] == url.as_str())
            .unwrap_or_else(|| panic!("{path} listed: {items:?}"))
            .clone()
    };
    for path in ["/", "/ok"] {
        let d = by_url(path);
        assert_eq!(d["status"], "indexed", "{d}");
        assert!(d["reason"].is_null(), "{d}");
        assert!(d["tokens"].as_i64().unwrap() > 0, "{d}");
    }
    assert_eq!(by_url("/ok")["title"], "Fine");
    let missing = by_url("/missing");
    assert_eq!(missing["status"], "failed", "{missing}");
    assert!(
        missing["reason"].as_str().unwrap().contains("404"),
        "{missing}"
    );
    let bombed = by_url("/bomb");
    assert_eq!(bombed["status"], "failed", "{bombed}");
    assert!(
        bombed["reason"]
            .as_str()
            .unwrap()
            .contains("once decompressed"),
        "{bombed}"
    );
    assert!(
        items
            .iter()
            .all(|d| d.get("id").is_none() && d.get("key").is_none()),
        "no internal ids: {items:?}"
    );
    // Paginated: indexed first, then the failures.
    let first = documents(&app, &key, &id, "?limit=3").await;
    let second = documents(&app, &key, &id, "?limit=3&offset=3").await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(second.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["meta"]["total"], 4);
    assert_eq!(first.body["data"][0]["status"], "indexed");
    assert_eq!(second.body["data"][0]["status"], "failed");
    documents(&app, &key, &id, "?limit=0")
        .await
        .assert_error(400, "validation_error");
    // Another account's source, or none, is a 404.
    let other = app.pro_key().await;
    documents(&app, &other, &id, "")
        .await
        .assert_error(404, "not_found");
    documents(&app, &key, &Uuid::new_v4().to_string(), "")
        .await
        .assert_error(404, "not_found");
    // A re-sync replaces what the last one found.
    site.set("/missing", article("Back", "It is back.", &[]));
    site.remove("/bomb");
    let r = app
        .post(&format!("/api/v1/sources/{id}/resync"), &key, json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    app.settled_source(&key, &id).await;
    let after = documents(&app, &key, &id, "").await;
    let statuses: Vec<(String, String)> = after.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["url"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches(&site.base)
                    .to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("/missing".into(), "indexed".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("/bomb".into(), "failed".into())),
        "now a 404: {statuses:?}"
    );
    assert_eq!(after.body["meta"]["total"], 4, "{}", after.body);
}

/// An uploaded file that cannot be read is listed as failed with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_file_is_listed_with_its_reason() {
    let app = spawn_app(Backend::Sqlite).await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Files").await;
    let agent_id = agent["id"].as_str().unwrap();
    let part =
        reqwest::multipart::Part::bytes(b"%PDF-1.4 not really".to_vec()).file_name("broken.pdf");
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = Reply::from(
        app.client
            .post(format!(
                "{}/api/v1/agents/{agent_id}/sources/upload",
                app.base
            ))
            .bearer_auth(&key)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    let source = app.settled_source(&key, &id).await;
    assert_eq!(source["status"], "failed", "{source}");
    let list = documents(&app, &key, &id, "").await;
    assert_eq!(list.body["meta"]["total"], 1, "{}", list.body);
    let d = &list.body["data"][0];
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["reason"], source["error"], "{d}");
}

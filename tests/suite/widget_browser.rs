//! The widget in a real browser: Debian's headless Chromium, driven by `tests/browser/widget.mjs`
//! (Playwright), against the app on 127.0.0.1 and a host page on another origin (`localhost`).
//! Needs `node`, `/usr/bin/chromium` and `npm ci` in `tests/browser` (the test command does
//! both); without them this test fails rather than skips.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::receiver::Receiver;
use crate::support::site::{Page, Site, article};
use crate::support::{Backend, eventually, spawn_app};

const COLOR: &str = "#e11d48";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: apt-get install chromium (scripts/test.sh does)"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: run `npm ci` in tests/browser (scripts/test.sh does)"
    );

    let receiver = Receiver::start().await;
    let site = Site::start(vec![(
        "/returns",
        article(
            "Returns policy",
            "You can return any unused item within 30 days of delivery for a full refund. \
             Refunds are paid to the original payment method within 5 business days.",
            &[],
        ),
    )])
    .await;
    let port = site.base.rsplit(':').next().unwrap().to_string();
    let allowed = format!("http://localhost:{port}");
    let app = spawn_app(Backend::Sqlite).await;
    let key = app.pro_key().await;
    let r = app
        .post(
            "/api/v1/agents",
            &key,
            json!({"name": "Outdoor Shop", "primary_color": COLOR,
                   "welcome_message": "Welcome to the Outdoor Shop! Ask me anything.",
                   "allowed_origins": [allowed], "lead_form_fields": ["name", "email"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let agent = r.body["data"].clone();
    let agent_id = agent["id"].as_str().unwrap();
    let r = app.put_webhook(&key, &receiver.url).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "url", "url": format!("{}/returns", site.base), "max_pages": 1}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let source = app
        .settled_source(&key, r.body["data"]["id"].as_str().unwrap())
        .await;
    assert_eq!(source["status"], "ready", "{source}");

    // The host page: the embed snippet as the API gives it, and hostile CSS around it.
    let embed = app
        .get(&format!("/api/v1/agents/{agent_id}/embed"), &key)
        .await;
    let snippet = embed.body["data"]["script"].as_str().unwrap();
    site.set(
        "/host.html",
        Page::html(format!(
            "<!doctype html><html><head><title>Host shop</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>* {{ color: lime !important; \
             font-size: 40px !important; background: #222 !important; }} button {{ display: none !important; }}\
             </style></head><body><h1>Our shop</h1>{snippet}</body></html>"
        )),
    );

    let iframe = embed.body["data"]["iframe"].as_str().unwrap();
    site.set(
        "/frame-host.html",
        Page::html(format!(
            "<!doctype html><html><head><title>Framed</title></head><body><h1>Framed</h1>{iframe}</body></html>"
        )),
    );

    let artifacts = root.join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("widget.png");
    let _ = std::fs::remove_file(&screenshot);
    let out = tokio::task::spawn_blocking({
        let (root, screenshot) = (root.to_path_buf(), screenshot.clone());
        let (host, refused) = (
            format!("{allowed}/host.html"),
            format!("{}/host.html", site.base),
        );
        move || {
            Command::new("node")
                .arg("tests/browser/widget.mjs")
                .current_dir(&root)
                .env("HOST_URL", host)
                .env("REFUSED_URL", refused)
                .env("COLOR", COLOR)
                .env("FRAME_PATH", "/frame-host.html")
                .env("SCREENSHOT", screenshot)
                .env("CHROMIUM", chromium)
                .output()
                .expect("node runs (install Node.js)")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("the browser test prints its RESULT");
    assert!(screenshot.exists(), "screenshot saved");

    // What the visitor did in the browser, seen through the API.
    let conv = result["conversation_id"].as_str().expect("a conversation");
    let r = app
        .get(&format!("/api/v1/conversations/{conv}"), &key)
        .await;
    assert_eq!(r.body["data"]["status"], "handoff_requested", "{}", r.body);
    let r = app.get("/api/v1/leads", &key).await;
    assert_eq!(r.body["meta"]["total"], 1, "{}", r.body);
    assert_eq!(r.body["data"][0]["email"], "ana@example.com");
    assert_eq!(r.body["data"][0]["source"], "form");
    assert_eq!(r.body["data"][0]["conversation_id"], conv);
    assert!(
        eventually(20, || async { !receiver.received().is_empty() }).await,
        "the lead.captured webhook fired"
    );
    assert_eq!(receiver.received()[0].json()["event"], "lead.captured");
    // The figures. The bounds are loose because CI runs several tests at once on 2 cores; the
    // figures on an idle machine are in the README.
    let ms = |k: &str| result[k].as_f64().unwrap_or(f64::NAN);
    let (paint, cached) = (
        ms("bubble_paint_after_script_start_ms"),
        ms("bubble_paint_cached_config_ms"),
    );
    println!(
        "widget: bubble painted {paint:.1} ms after the script started (first view, config fetched), \
         {cached:.1} ms on a later view (config cached); first token {:.1} ms, whole answer {:.0} ms; \
         widget.js {} bytes gzipped",
        ms("first_token_ms"),
        ms("answer_ms"),
        otoq_api::widget::script::gzipped_len()
    );
    assert!(
        paint < 1000.0,
        "bubble painted {paint} ms after the script started"
    );
    assert!(
        cached < 300.0,
        "bubble painted {cached} ms after the script started (cached)"
    );
}

//! The console in a real browser, as a user story (tests/browser/console.mjs, Playwright and
//! Debian's headless Chromium), on both modes; checks the database side afterwards. Saves a
//! screenshot of every page to target/artifacts/console-<mode>-*.png.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::both_backends;
use crate::support::{Backend, spawn_app_with};

async fn console_user_story(backend: Backend) {
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
    let app = spawn_app_with(backend, |e| {
        e.set("OTOQ_SIGNUP", "open");
        e.set("OTOQ_SIGNUP_PLAN", "pro");
    })
    .await;
    let mode = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let artifacts = root.join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shots = artifacts.join(format!("console-{mode}-"));
    let out = tokio::task::spawn_blocking({
        let (root, base, shots) = (root.to_path_buf(), app.base.clone(), shots.clone());
        move || {
            Command::new("node")
                .arg("tests/browser/console.mjs")
                .current_dir(&root)
                .env("BASE", base)
                .env("SHOTS", shots)
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
        "browser story failed:\n{stdout}\n{stderr}"
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("the story prints its RESULT");
    for page in [
        "signin",
        "signup",
        "agents-empty",
        "knowledge",
        "agent-preview",
        "install",
        "host-page",
        "conversations",
        "conversation",
        "leads",
        "api-keys",
        "phone-agents",
    ] {
        let p = artifacts.join(format!("console-{mode}-{page}.png"));
        assert!(p.exists(), "screenshot {}", p.display());
    }

    // What happened in the browser, seen in storage: one account with its owner, the visitor's
    // conversation in it, and the lead of that conversation.
    use otoq_entities::{accounts, conversations, leads, members};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = &app.ctx().db;
    let owner = members::Entity::find()
        .filter(members::Column::Email.eq("owner@outdoor.example"))
        .one(db)
        .await
        .unwrap()
        .expect("the owner signed up");
    let account = accounts::Entity::find_by_id(owner.account_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.name.as_deref(), Some("Outdoor Shop"));
    let conv: uuid::Uuid = result["conversation_id"].as_str().unwrap().parse().unwrap();
    let c = conversations::Entity::find_by_id(conv)
        .one(db)
        .await
        .unwrap()
        .expect("the visitor's conversation");
    assert_eq!(c.account_id, account.id);
    let lead = leads::Entity::find()
        .filter(leads::Column::ConversationId.eq(conv))
        .one(db)
        .await
        .unwrap()
        .expect("the visitor's lead");
    assert_eq!(lead.email.as_deref(), Some("ana@example.com"));
    assert_eq!(lead.account_id, account.id);
}

both_backends!(console_user_story);

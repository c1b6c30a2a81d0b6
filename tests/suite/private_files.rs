//! The embedded mode's files are private: the data directory 0700, the database and its WAL
//! files 0600, the generated key 0600; an empty or short key file refuses to start. The scaled
//! mode has no local files: it refuses to start without `OTOQ_SECRET_KEY`.

use std::os::unix::fs::PermissionsExt;

use otoq::startup::{self, Role};

use crate::support::{Backend, TestEnv, spawn_app};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_files_are_private() {
    let app = spawn_app(Backend::Sqlite).await;
    let key = app.pro_key().await;
    app.create_agent(&key, "A").await;
    let dir = app.ctx().config.data_dir.clone();
    assert_eq!(mode(&dir), 0o700, "data directory");
    for name in ["otoq.db", "otoq.db-wal", "otoq.db-shm", "secret.key"] {
        let p = dir.join(name);
        assert!(p.exists(), "{name} exists");
        assert_eq!(mode(&p), 0o600, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_short_key_file_refuses_to_start() {
    for content in ["", "   \n", "tooshort"] {
        let env = TestEnv::new(Backend::Sqlite).await;
        let dir = env.config().data_dir;
        std::fs::write(dir.join("secret.key"), content).unwrap();
        let err = match startup::start(env.config(), Role::Serve).await {
            Ok(_) => panic!("started with the key file {content:?}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("fewer than 32"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scaled_mode_refuses_to_start_without_a_secret_key() {
    let mut env = TestEnv::new(Backend::Postgres).await;
    env.vars.remove("OTOQ_SECRET_KEY");
    for role in [Role::Serve, Role::Api, Role::Worker] {
        let err = match startup::start(env.config(), role).await {
            Ok(_) => panic!("{role:?} started without OTOQ_SECRET_KEY"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("OTOQ_SECRET_KEY is not set"), "{err}");
        assert!(
            err.contains("openssl rand -base64 32"),
            "says how to make one: {err}"
        );
    }
    // Nothing was generated into the database it would protect.
    let db = otoq_core::db::connect(&env.vars["DATABASE_URL"], 1)
        .await
        .unwrap();
    assert_eq!(otoq_core::crypto::stored_key(&db).await, None);
    // With a key it starts.
    env.set("OTOQ_SECRET_KEY", "k".repeat(44));
    startup::start(env.config(), Role::Serve)
        .await
        .expect("starts with a key")
        .stop()
        .await;
}

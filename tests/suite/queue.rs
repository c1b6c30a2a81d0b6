//! The durable queue: separate worker processes, a 50,000-job backlog, and jobs whose worker died.

use std::time::Duration;

use otoq::startup::{self, Role};
use otoq_core::jobs::Job;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::both_backends;
use crate::support::process::{run_otoq, spawn_otoq};
use crate::support::{Backend, Reply, TestEnv, eventually};

both_backends!(
    api_process_enqueues_worker_process_runs,
    backlog_of_50000_drains,
    abandoned_job_runs_again
);

async fn api_process_enqueues_worker_process_runs(b: Backend) {
    let env = TestEnv::new(b).await;
    assert!(run_otoq(&env, &["migrate"]).await.status.success());
    let out = run_otoq(
        &env,
        &["accounts", "create", "--email", "q@x.io", "--plan", "pro"],
    )
    .await;
    let key = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let api = spawn_otoq(&env, "api").await;
    let base = api.base.clone().unwrap();
    let client = reqwest::Client::new();
    let created = Reply::from(
        client
            .post(format!("{base}/api/v1/agents"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id: Uuid = created.body["data"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let deleted = client
        .delete(format!("{base}/api/v1/agents/{id}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);

    // Only the API runs: the job waits, the row stays.
    let db = otoq_core::db::connect(&env.vars["DATABASE_URL"], 2)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        otoq_entities::agents::Entity::find_by_id(id)
            .one(&db)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        otoq_entities::jobs::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .len(),
        1
    );

    let _worker = spawn_otoq(&env, "worker").await;
    let done = eventually(30, || {
        let db = db.clone();
        async move {
            otoq_entities::agents::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .is_none()
        }
    })
    .await;
    assert!(done, "the separate worker process purged the agent");
    let acknowledged = eventually(10, || {
        let db = db.clone();
        async move {
            otoq_entities::jobs::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .is_empty()
        }
    })
    .await;
    assert!(acknowledged, "the finished job left the queue");
}

async fn backlog_of_50000_drains(b: Backend) {
    let mut env = TestEnv::new(b).await;
    env.set("OTOQ_WORKER_CONCURRENCY", "32")
        .set("OTOQ_QUEUE_BATCH", "200");
    // Enqueue everything before any worker runs, so the whole backlog is due at once.
    let api = startup::start(env.config(), Role::Serve).await.unwrap();
    api.stop().await;
    let ctx = otoq_core::Context::connect(env.config()).await.unwrap();
    let jobs: Vec<Job> = (0..50_000)
        .map(|_| Job::PurgeAgent {
            account_id: Uuid::new_v4(),
            agent_id: Uuid::new_v4(),
        })
        .collect();
    ctx.queue.enqueue_many(&jobs).await.unwrap();
    assert_eq!(ctx.queue.stats().await.unwrap().queued, 50_000);
    let started = std::time::Instant::now();
    let worker = startup::start(env.config(), Role::Worker).await.unwrap();
    let drained = eventually(600, || async {
        ctx.queue.stats().await.unwrap().queued == 0
    })
    .await;
    assert!(
        drained,
        "backlog drained; left: {:?}",
        ctx.queue.stats().await
    );
    assert_eq!(ctx.queue.stats().await.unwrap().dead, 0);
    eprintln!("{b:?}: drained 50,000 jobs in {:.1?}", started.elapsed());
    worker.stop().await;
}

async fn abandoned_job_runs_again(b: Backend) {
    let mut env = TestEnv::new(b).await;
    env.set("OTOQ_JOB_LEASE_SECS", "2");
    let app = startup::start(env.config(), Role::Serve).await.unwrap();
    app.stop().await;
    let ctx = otoq_core::Context::connect(env.config()).await.unwrap();
    let (account_id, agent_id) = (Uuid::new_v4(), Uuid::new_v4());
    ctx.queue
        .enqueue(&Job::PurgeAgent {
            account_id,
            agent_id,
        })
        .await
        .unwrap();
    // A worker takes the job and dies without finishing it: only its lease remains.
    let taken = ctx.queue.claim(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(
        ctx.queue
            .claim(10, Duration::from_secs(2))
            .await
            .unwrap()
            .is_empty(),
        "leased jobs are invisible"
    );
    // A new worker picks it up once the lease runs out, and finishes it.
    let worker = startup::start(env.config(), Role::Worker).await.unwrap();
    assert!(
        eventually(20, || async {
            ctx.queue.stats().await.unwrap().queued == 0
        })
        .await,
        "the job ran again"
    );
    // The dead worker's late acknowledgement cannot touch anything.
    ctx.queue.complete(&taken[0]).await.unwrap();
    worker.stop().await;
}

/// A real worker process killed mid-run (SIGKILL) loses nothing: its jobs run again elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_process_loses_no_job() {
    let mut env = TestEnv::new(Backend::Postgres).await;
    env.set("OTOQ_JOB_LEASE_SECS", "2")
        .set("OTOQ_WORKER_CONCURRENCY", "4")
        .set("OTOQ_QUEUE_BATCH", "4");
    assert!(run_otoq(&env, &["migrate"]).await.status.success());
    let ctx = otoq_core::Context::connect(env.config()).await.unwrap();
    let jobs: Vec<Job> = (0..5_000)
        .map(|_| Job::PurgeAgent {
            account_id: Uuid::new_v4(),
            agent_id: Uuid::new_v4(),
        })
        .collect();
    ctx.queue.enqueue_many(&jobs).await.unwrap();
    let mut first = spawn_otoq(&env, "worker").await;
    // Let it get going, then kill it without warning.
    assert!(
        eventually(30, || async {
            ctx.queue.stats().await.unwrap().queued < 5_000
        })
        .await
    );
    first.child.start_kill().unwrap();
    let _ = first.child.wait().await;
    let left = ctx.queue.stats().await.unwrap().queued;
    assert!(left > 0, "killed before the end");
    let _second = spawn_otoq(&env, "worker").await;
    assert!(
        eventually(120, || async {
            ctx.queue.stats().await.unwrap().queued == 0
        })
        .await,
        "every job finished"
    );
    assert_eq!(ctx.queue.stats().await.unwrap().dead, 0);
}

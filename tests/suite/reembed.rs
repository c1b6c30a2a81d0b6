//! A changed embedder: passages made by another model are re-embedded in the background while the
//! agent keeps answering (by keywords until then) and its sources keep syncing.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::support::{Backend, spawn_app_with};

both_backends!(passages_of_another_model_are_reembedded);

async fn passages_of_another_model_are_reembedded(b: Backend) {
    use otoq_entities::chunks;
    let app = spawn_app_with(b, |e| {
        e.with_embedder().set("OTOQ_EMBEDDER_FETCH", "false");
    })
    .await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Shop").await;
    let agent_id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
    let content = "Our return window is 45 days from delivery: unworn items in their original \
                   packaging get a full refund.\n\nShipping to Canada costs 12 dollars and takes a week.";
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "text", "title": "Policies", "content": content}),
        )
        .await;
    let source_id = r.body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.settled_source(&key, &source_id).await["status"],
        "ready"
    );
    let ctx = app.ctx();
    let Some(embedder) = ctx.embedder().await else {
        panic!("the test model is installed (scripts/test.sh fetches it)")
    };

    // The vectors were made by another model (the embedder was different before a restart).
    let db = &ctx.db;
    db.execute_raw(otoq_core::db::statement(
        db,
        "UPDATE chunks SET embedding_model = {}, embedding = {} WHERE agent_id = {}",
        [
            "old-model".into(),
            otoq_core::knowledge::store::vector_bytes(&[0.6, 0.8]).into(),
            agent_id.into(),
        ],
    ))
    .await
    .unwrap();
    db.execute_raw(otoq_core::db::statement(
        db,
        "UPDATE agents SET knowledge_version = knowledge_version + 1 WHERE id = {}",
        [agent_id.into()],
    ))
    .await
    .unwrap();
    // Meanwhile the agent still finds its passages, by keywords, and chat works.
    let found = otoq_core::retrieval::search(ctx, agent_id, "return window refund", 3)
        .await
        .unwrap();
    assert!(!found.passages.is_empty());
    assert!(
        !found.dense,
        "another model's vectors are never compared with this one's"
    );
    let chat = app
        .post(
            "/api/v1/chat",
            &key,
            json!({"agent_id": agent_id, "message": "What is the return window?"}),
        )
        .await;
    assert_eq!(chat.status, 200, "{}", chat.body);

    let n = otoq_core::embed::reembed_stale(ctx).await.unwrap();
    let rows = chunks::Entity::find()
        .filter(chunks::Column::AgentId.eq(agent_id))
        .filter(chunks::Column::Active.eq(true))
        .all(db)
        .await
        .unwrap();
    assert_eq!(n, rows.len());
    for c in &rows {
        assert_eq!(c.embedding_model.as_deref(), Some(embedder.id()));
        let got = otoq_core::knowledge::store::bytes_vector(c.embedding.as_deref().unwrap());
        let path: Vec<String> = serde_json::from_value(c.heading_path.clone()).unwrap();
        let input = otoq_core::embed::passage_input(&c.title, &path, &c.text);
        let want = embedder.embed(&[input]).await.unwrap().remove(0);
        let diff = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert_eq!(got.len(), want.len());
        assert!(diff < 1e-3, "{diff}");
    }
    let found = otoq_core::retrieval::search(ctx, agent_id, "How long can I return things?", 3)
        .await
        .unwrap();
    assert!(found.dense, "the new vectors are searched");
    assert_eq!(otoq_core::embed::reembed_stale(ctx).await.unwrap(), 0);

    // Ingestion keeps working.
    let r = app
        .post(
            &format!("/api/v1/sources/{source_id}/resync"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        app.settled_source(&key, &source_id).await["status"],
        "ready"
    );
}

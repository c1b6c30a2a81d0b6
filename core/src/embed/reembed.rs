//! Re-embedding in the background after the embedder changed: active passages whose vectors another
//! model made (or none) get the current embedder's, a page at a time. Search keeps answering
//! meanwhile — by keywords for the passages not done yet, by the new vectors as they land.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Result;
use otoq_entities::chunks;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use crate::Context;
use crate::db::statement;
use crate::knowledge::store::vector_bytes;

/// Passages embedded per step.
const PAGE: u64 = 64;
/// How often search indexes are told about the new vectors while a re-embed runs.
const PUBLISH_EVERY: Duration = Duration::from_secs(10);

/// What the embedder reads for a passage: its title and heading path above its text.
pub fn passage_input(title: &str, path: &[String], text: &str) -> String {
    let mut head = title.to_string();
    for h in path {
        head.push_str(" > ");
        head.push_str(h);
    }
    if head.is_empty() {
        text.to_string()
    } else {
        format!("{head}\n{text}")
    }
}

/// Gives every active passage a vector of the current embedder; returns how many it re-embedded.
/// Nothing to do without an embedder. Safe to run in several workers at once (they write the same
/// vectors) and to interrupt (the next run continues).
pub async fn reembed_stale(ctx: &Context) -> Result<usize> {
    let Some(embedder) = ctx.embedder().await else {
        return Ok(0);
    };
    let model = embedder.id().to_string();
    let mut done = 0;
    let mut touched: HashSet<Uuid> = HashSet::new();
    let mut published = Instant::now();
    loop {
        let rows: Vec<(Uuid, Uuid, String, serde_json::Value, String)> = chunks::Entity::find()
            .select_only()
            .columns([
                chunks::Column::Id,
                chunks::Column::AgentId,
                chunks::Column::Title,
                chunks::Column::HeadingPath,
                chunks::Column::Text,
            ])
            .filter(chunks::Column::Active.eq(true))
            .filter(
                Condition::any()
                    .add(chunks::Column::EmbeddingModel.is_null())
                    .add(chunks::Column::EmbeddingModel.ne(model.as_str())),
            )
            .order_by_asc(chunks::Column::Id)
            .limit(PAGE)
            .into_tuple()
            .all(&ctx.db)
            .await?;
        if rows.is_empty() {
            break;
        }
        let inputs: Vec<String> = rows
            .iter()
            .map(|(_, _, title, headings, text)| {
                let path: Vec<String> = headings
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|h| h.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                passage_input(title, &path, text)
            })
            .collect();
        let vectors = embedder.embed(&inputs).await?;
        anyhow::ensure!(vectors.len() == rows.len(), "the embedder skipped passages");
        let txn = ctx.db.begin().await?;
        for ((id, agent, ..), v) in rows.iter().zip(vectors) {
            chunks::Entity::update_many()
                .col_expr(chunks::Column::Embedding, Expr::value(vector_bytes(&v)))
                .col_expr(chunks::Column::EmbeddingModel, Expr::value(model.clone()))
                .filter(chunks::Column::Id.eq(*id))
                .exec(&txn)
                .await?;
            touched.insert(*agent);
        }
        txn.commit().await?;
        done += rows.len();
        if published.elapsed() >= PUBLISH_EVERY {
            publish(ctx, &mut touched).await?;
            published = Instant::now();
        }
    }
    publish(ctx, &mut touched).await?;
    if done > 0 {
        tracing::info!(passages = done, model = %model, "re-embedded passages for the current embedder");
    }
    Ok(done)
}

/// Tells the search indexes of `agents` that their vectors changed.
async fn publish(ctx: &Context, agents: &mut HashSet<Uuid>) -> Result<()> {
    for agent in agents.drain() {
        ctx.db
            .execute_raw(statement(
                &ctx.db,
                "UPDATE agents SET knowledge_version = knowledge_version + 1 WHERE id = {}",
                [agent.into()],
            ))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_puts_title_and_headings_first() {
        assert_eq!(passage_input("", &[], "Text."), "Text.");
        assert_eq!(
            passage_input("Returns", &["Exceptions".into(), "Sale".into()], "14 days."),
            "Returns > Exceptions > Sale\n14 days."
        );
    }
}

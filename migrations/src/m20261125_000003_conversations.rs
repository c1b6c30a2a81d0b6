//! Conversations, their messages and the monthly usage counters; the knowledge version of an
//! agent (bumped whenever its searchable chunks change, so search indexes know to reload).
//!
//! Keyword search moved into the in-process index next to the vectors (one ranking on both
//! backends, and fast at 100k chunks), so the database full-text indexes are dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    KnowledgeVersion,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    AccountId,
    AgentId,
    Status,
    Sentiment,
    SentimentScore,
    Language,
    VisitorId,
    MessageCount,
    UnansweredCount,
    HandoffRequestedAt,
    HandoffNotifiedAt,
    CreatedAt,
    UpdatedAt,
    LastMessageAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    AccountId,
    AgentId,
    Seq,
    Role,
    Content,
    Sources,
    Answered,
    HandoffOffered,
    GapKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UsageCounters {
    Table,
    AccountId,
    Period,
    Conversations,
}

fn uuid(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).uuid().not_null().take()
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn ts_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().null().take()
}

fn int(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).integer().not_null().default(0).take()
}

const SQLITE_DROP_FTS: [&str; 4] = [
    "DROP TRIGGER IF EXISTS chunks_fts_insert",
    "DROP TRIGGER IF EXISTS chunks_fts_activate",
    "DROP TRIGGER IF EXISTS chunks_fts_delete",
    "DROP TABLE IF EXISTS chunks_fts",
];

const POSTGRES_DROP_FTS: [&str; 2] = [
    "DROP INDEX IF EXISTS idx_chunks_tsv",
    "ALTER TABLE chunks DROP COLUMN IF EXISTS tsv",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .add_column(
                        ColumnDef::new(Agents::KnowledgeVersion)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(uuid(Conversations::Id).primary_key())
                    .col(uuid(Conversations::AccountId))
                    .col(uuid(Conversations::AgentId))
                    .col(ColumnDef::new(Conversations::Status).string().not_null())
                    .col(ColumnDef::new(Conversations::Sentiment).string().not_null())
                    .col(
                        ColumnDef::new(Conversations::SentimentScore)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .col(ColumnDef::new(Conversations::Language).string().null())
                    .col(ColumnDef::new(Conversations::VisitorId).string().null())
                    .col(int(Conversations::MessageCount))
                    .col(int(Conversations::UnansweredCount))
                    .col(ts_null(Conversations::HandoffRequestedAt))
                    .col(ts_null(Conversations::HandoffNotifiedAt))
                    .col(ts(Conversations::CreatedAt))
                    .col(ts(Conversations::UpdatedAt))
                    .col(ts(Conversations::LastMessageAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_conversations_account",
                vec![Conversations::AccountId, Conversations::CreatedAt],
            ),
            (
                "idx_conversations_agent",
                vec![Conversations::AgentId, Conversations::CreatedAt],
            ),
        ] {
            let mut idx = Index::create()
                .name(name)
                .table(Conversations::Table)
                .to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(uuid(Messages::Id).primary_key())
                    .col(uuid(Messages::ConversationId))
                    .col(uuid(Messages::AccountId))
                    .col(uuid(Messages::AgentId))
                    .col(int(Messages::Seq))
                    .col(ColumnDef::new(Messages::Role).string().not_null())
                    .col(ColumnDef::new(Messages::Content).text().not_null())
                    .col(ColumnDef::new(Messages::Sources).json().not_null())
                    .col(ColumnDef::new(Messages::Answered).boolean().null())
                    .col(
                        ColumnDef::new(Messages::HandoffOffered)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Messages::GapKey).text().null())
                    .col(ts(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "idx_messages_conversation",
                vec![Messages::ConversationId, Messages::Seq],
                true,
            ),
            (
                "idx_messages_agent_gaps",
                vec![Messages::AgentId, Messages::Answered, Messages::CreatedAt],
                false,
            ),
        ] {
            let mut idx = Index::create().name(name).table(Messages::Table).to_owned();
            for c in cols {
                idx.col(c);
            }
            if unique {
                idx.unique();
            }
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(UsageCounters::Table)
                    .col(uuid(UsageCounters::AccountId))
                    .col(ColumnDef::new(UsageCounters::Period).string().not_null())
                    .col(
                        ColumnDef::new(UsageCounters::Conversations)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(UsageCounters::AccountId)
                            .col(UsageCounters::Period),
                    )
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &POSTGRES_DROP_FTS,
            _ => &SQLITE_DROP_FTS,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UsageCounters::Table.into_iden(),
            Messages::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .drop_column(Agents::KnowledgeVersion)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

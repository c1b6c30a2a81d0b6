//! Knowledge: sources, their files, documents and chunks, and the keyword index.
//!
//! The keyword index covers active chunks only. On SQLite it is an FTS5 table keyed by the
//! chunk's rowid and kept in step by triggers; on Postgres a generated `tsvector` with a GIN index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    AccountId,
    AgentId,
    Kind,
    Name,
    Url,
    Config,
    Status,
    Error,
    PagesFound,
    PagesDone,
    PagesFailed,
    Chunks,
    Refresh,
    NextSyncAt,
    LastSyncedAt,
    RunId,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum SourceFiles {
    Table,
    SourceId,
    Filename,
    ContentType,
    Size,
    Bytes,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    AccountId,
    AgentId,
    SourceId,
    Key,
    Title,
    Url,
    ContentHash,
    StagedHash,
    Partial,
    Tokens,
    SeenRun,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Chunks {
    Table,
    Id,
    AccountId,
    AgentId,
    SourceId,
    DocumentId,
    Ordinal,
    Title,
    Url,
    HeadingPath,
    Text,
    Tokens,
    Embedding,
    EmbeddingModel,
    Active,
    RunId,
    CreatedAt,
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

const SQLITE_FTS: [&str; 4] = [
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(title, text, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks WHEN new.active BEGIN \
       INSERT INTO chunks_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text); END",
    "CREATE TRIGGER chunks_fts_activate AFTER UPDATE OF active ON chunks BEGIN \
       DELETE FROM chunks_fts WHERE rowid = old.rowid; \
       INSERT INTO chunks_fts(rowid, title, text) SELECT new.rowid, new.title, new.text WHERE new.active; END",
    "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN \
       DELETE FROM chunks_fts WHERE rowid = old.rowid; END",
];

const POSTGRES_FTS: [&str; 2] = [
    "ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS \
       (setweight(to_tsvector('english', coalesce(title, '')), 'B') || to_tsvector('english', text)) STORED",
    "CREATE INDEX idx_chunks_tsv ON chunks USING GIN (tsv) WHERE active",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sources::Table)
                    .col(uuid(Sources::Id).primary_key())
                    .col(uuid(Sources::AccountId))
                    .col(uuid(Sources::AgentId))
                    .col(ColumnDef::new(Sources::Kind).string().not_null())
                    .col(ColumnDef::new(Sources::Name).string().not_null())
                    .col(ColumnDef::new(Sources::Url).text().null())
                    .col(ColumnDef::new(Sources::Config).json().not_null())
                    .col(ColumnDef::new(Sources::Status).string().not_null())
                    .col(ColumnDef::new(Sources::Error).text().null())
                    .col(int(Sources::PagesFound))
                    .col(int(Sources::PagesDone))
                    .col(int(Sources::PagesFailed))
                    .col(int(Sources::Chunks))
                    .col(ColumnDef::new(Sources::Refresh).string().not_null())
                    .col(ts_null(Sources::NextSyncAt))
                    .col(ts_null(Sources::LastSyncedAt))
                    .col(ColumnDef::new(Sources::RunId).uuid().null())
                    .col(ts(Sources::CreatedAt))
                    .col(ts(Sources::UpdatedAt))
                    .col(ts_null(Sources::DeletedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_sources_agent",
                vec![Sources::AgentId, Sources::CreatedAt],
            ),
            ("idx_sources_due", vec![Sources::NextSyncAt]),
        ] {
            let mut idx = Index::create().name(name).table(Sources::Table).to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SourceFiles::Table)
                    .col(uuid(SourceFiles::SourceId).primary_key())
                    .col(ColumnDef::new(SourceFiles::Filename).string().not_null())
                    .col(ColumnDef::new(SourceFiles::ContentType).string().null())
                    .col(ColumnDef::new(SourceFiles::Size).big_integer().not_null())
                    .col(ColumnDef::new(SourceFiles::Bytes).blob().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(SourceFiles::Table, SourceFiles::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(uuid(Documents::Id).primary_key())
                    .col(uuid(Documents::AccountId))
                    .col(uuid(Documents::AgentId))
                    .col(uuid(Documents::SourceId))
                    .col(ColumnDef::new(Documents::Key).text().not_null())
                    .col(ColumnDef::new(Documents::Title).text().not_null())
                    .col(ColumnDef::new(Documents::Url).text().null())
                    .col(ColumnDef::new(Documents::ContentHash).string().null())
                    .col(ColumnDef::new(Documents::StagedHash).string().null())
                    .col(ColumnDef::new(Documents::Partial).text().null())
                    .col(int(Documents::Tokens))
                    .col(ColumnDef::new(Documents::SeenRun).uuid().null())
                    .col(ts(Documents::CreatedAt))
                    .col(ts(Documents::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_documents_source_key")
                    .table(Documents::Table)
                    .col(Documents::SourceId)
                    .col(Documents::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Chunks::Table)
                    .col(uuid(Chunks::Id).primary_key())
                    .col(uuid(Chunks::AccountId))
                    .col(uuid(Chunks::AgentId))
                    .col(uuid(Chunks::SourceId))
                    .col(uuid(Chunks::DocumentId))
                    .col(int(Chunks::Ordinal))
                    .col(ColumnDef::new(Chunks::Title).text().not_null())
                    .col(ColumnDef::new(Chunks::Url).text().null())
                    .col(ColumnDef::new(Chunks::HeadingPath).json().not_null())
                    .col(ColumnDef::new(Chunks::Text).text().not_null())
                    .col(int(Chunks::Tokens))
                    .col(ColumnDef::new(Chunks::Embedding).blob().null())
                    .col(ColumnDef::new(Chunks::EmbeddingModel).string().null())
                    .col(ColumnDef::new(Chunks::Active).boolean().not_null())
                    .col(uuid(Chunks::RunId))
                    .col(ts(Chunks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_chunks_agent_active",
                vec![Chunks::AgentId, Chunks::Active],
            ),
            (
                "idx_chunks_document",
                vec![Chunks::DocumentId, Chunks::Active],
            ),
            ("idx_chunks_source", vec![Chunks::SourceId]),
        ] {
            let mut idx = Index::create().name(name).table(Chunks::Table).to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }

        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &POSTGRES_FTS,
            _ => &SQLITE_FTS,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS chunks_fts")
                .await?;
        }
        for table in [
            Chunks::Table.into_iden(),
            Documents::Table.into_iden(),
            SourceFiles::Table.into_iden(),
            Sources::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

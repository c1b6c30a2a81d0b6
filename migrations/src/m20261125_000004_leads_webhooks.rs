//! Leads, the account's webhook endpoint, the outbox of events with their deliveries and
//! every delivery attempt, and a small settings table (the generated secret key).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Leads {
    Table,
    Id,
    AccountId,
    AgentId,
    ConversationId,
    Name,
    Email,
    Phone,
    Company,
    Source,
    Score,
    ScoreReasons,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    AccountId,
    Url,
    Enabled,
    Events,
    SecretEnc,
    PreviousSecretEnc,
    PreviousSecretExpiresAt,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Id,
    AccountId,
    Event,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    AccountId,
    EventId,
    Event,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    FirstAttemptAt,
    LastAttemptAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    AccountId,
    AttemptedAt,
    Url,
    StatusCode,
    LatencyMs,
    ResponseExcerpt,
    Error,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Name,
    Value,
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

fn text_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().null().take()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: impl IntoTableRef,
    name: &str,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create().name(name).table(table).to_owned();
    for c in cols {
        idx.col(c);
    }
    if unique {
        idx.unique();
    }
    manager.create_index(idx).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Leads::Table)
                    .col(uuid(Leads::Id).primary_key())
                    .col(uuid(Leads::AccountId))
                    .col(uuid(Leads::AgentId))
                    .col(ColumnDef::new(Leads::ConversationId).uuid().null())
                    .col(text_null(Leads::Name))
                    .col(text_null(Leads::Email))
                    .col(text_null(Leads::Phone))
                    .col(text_null(Leads::Company))
                    .col(ColumnDef::new(Leads::Source).string().not_null())
                    .col(ColumnDef::new(Leads::Score).integer().not_null().default(0))
                    .col(ColumnDef::new(Leads::ScoreReasons).json().not_null())
                    .col(ts(Leads::CreatedAt))
                    .col(ts(Leads::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            Leads::Table,
            "idx_leads_account",
            vec![Leads::AccountId.into_iden(), Leads::CreatedAt.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            Leads::Table,
            "idx_leads_agent",
            vec![Leads::AgentId.into_iden(), Leads::CreatedAt.into_iden()],
            false,
        )
        .await?;
        index(
            manager,
            Leads::Table,
            "idx_leads_conversation",
            vec![Leads::ConversationId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(uuid(WebhookEndpoints::AccountId).primary_key())
                    .col(ColumnDef::new(WebhookEndpoints::Url).text().not_null())
                    .col(
                        ColumnDef::new(WebhookEndpoints::Enabled)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookEndpoints::Events).json().not_null())
                    .col(
                        ColumnDef::new(WebhookEndpoints::SecretEnc)
                            .text()
                            .not_null(),
                    )
                    .col(text_null(WebhookEndpoints::PreviousSecretEnc))
                    .col(ts_null(WebhookEndpoints::PreviousSecretExpiresAt))
                    .col(text_null(WebhookEndpoints::DisabledReason))
                    .col(ts_null(WebhookEndpoints::FailingSince))
                    .col(ts(WebhookEndpoints::CreatedAt))
                    .col(ts(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .col(
                        ColumnDef::new(WebhookEvents::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(uuid(WebhookEvents::AccountId))
                    .col(ColumnDef::new(WebhookEvents::Event).string().not_null())
                    .col(ColumnDef::new(WebhookEvents::Payload).text().not_null())
                    .col(ts(WebhookEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(uuid(WebhookDeliveries::AccountId))
                    .col(
                        ColumnDef::new(WebhookDeliveries::EventId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::Event).string().not_null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts_null(WebhookDeliveries::NextAttemptAt))
                    .col(ts_null(WebhookDeliveries::LeaseUntil))
                    .col(ts_null(WebhookDeliveries::FirstAttemptAt))
                    .col(ts_null(WebhookDeliveries::LastAttemptAt))
                    .col(
                        ColumnDef::new(WebhookDeliveries::LastStatusCode)
                            .integer()
                            .null(),
                    )
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(ts(WebhookDeliveries::CreatedAt))
                    .col(ts(WebhookDeliveries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            WebhookDeliveries::Table,
            "idx_deliveries_account",
            vec![
                WebhookDeliveries::AccountId.into_iden(),
                WebhookDeliveries::CreatedAt.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            WebhookDeliveries::Table,
            "idx_deliveries_due",
            vec![
                WebhookDeliveries::Status.into_iden(),
                WebhookDeliveries::NextAttemptAt.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(uuid(WebhookAttempts::Id).primary_key())
                    .col(uuid(WebhookAttempts::DeliveryId))
                    .col(uuid(WebhookAttempts::AccountId))
                    .col(ts(WebhookAttempts::AttemptedAt))
                    .col(ColumnDef::new(WebhookAttempts::Url).text().not_null())
                    .col(ColumnDef::new(WebhookAttempts::StatusCode).integer().null())
                    .col(
                        ColumnDef::new(WebhookAttempts::LatencyMs)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(text_null(WebhookAttempts::ResponseExcerpt))
                    .col(text_null(WebhookAttempts::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            WebhookAttempts::Table,
            "idx_attempts_delivery",
            vec![
                WebhookAttempts::DeliveryId.into_iden(),
                WebhookAttempts::AttemptedAt.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Settings::Table.into_iden(),
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            Leads::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! Shopify: installed shops with their encrypted tokens, the single-use OAuth `state` nonces,
//! and the ids of webhooks already handled (Shopify may deliver one more than once).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ShopifyShops {
    Table,
    Id,
    AccountId,
    AgentId,
    Shop,
    SourceId,
    Scope,
    Status,
    AccessTokenEnc,
    AccessTokenExpiresAt,
    RefreshTokenEnc,
    RefreshTokenExpiresAt,
    InstalledAt,
    UninstalledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ShopifyStates {
    Table,
    Nonce,
    AccountId,
    AgentId,
    Shop,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ShopifyWebhookIds {
    Table,
    WebhookId,
    ReceivedAt,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShopifyShops::Table)
                    .col(
                        ColumnDef::new(ShopifyShops::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ShopifyShops::AccountId).uuid().not_null())
                    .col(ColumnDef::new(ShopifyShops::AgentId).uuid().not_null())
                    .col(ColumnDef::new(ShopifyShops::Shop).string().not_null())
                    .col(ColumnDef::new(ShopifyShops::SourceId).uuid().null())
                    .col(ColumnDef::new(ShopifyShops::Scope).text().not_null())
                    .col(ColumnDef::new(ShopifyShops::Status).string().not_null())
                    .col(ColumnDef::new(ShopifyShops::AccessTokenEnc).text().null())
                    .col(ts_null(ShopifyShops::AccessTokenExpiresAt))
                    .col(ColumnDef::new(ShopifyShops::RefreshTokenEnc).text().null())
                    .col(ts_null(ShopifyShops::RefreshTokenExpiresAt))
                    .col(ts(ShopifyShops::InstalledAt))
                    .col(ts_null(ShopifyShops::UninstalledAt))
                    .col(ts(ShopifyShops::CreatedAt))
                    .col(ts(ShopifyShops::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_shopify_shops_shop")
                    .table(ShopifyShops::Table)
                    .col(ShopifyShops::Shop)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShopifyStates::Table)
                    .col(
                        ColumnDef::new(ShopifyStates::Nonce)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ShopifyStates::AccountId).uuid().not_null())
                    .col(ColumnDef::new(ShopifyStates::AgentId).uuid().not_null())
                    .col(ColumnDef::new(ShopifyStates::Shop).string().not_null())
                    .col(ts(ShopifyStates::ExpiresAt))
                    .col(ts(ShopifyStates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShopifyWebhookIds::Table)
                    .col(
                        ColumnDef::new(ShopifyWebhookIds::WebhookId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ts(ShopifyWebhookIds::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShopifyWebhookIds::Table.into_iden(),
            ShopifyStates::Table.into_iden(),
            ShopifyShops::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

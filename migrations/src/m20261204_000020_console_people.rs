//! The console's people: `members` of an account (role, argon2id password hash, lockout) and
//! their `sessions` (hashed cookie, CSRF token).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    AccountId,
    Email,
    PasswordHash,
    Role,
    FailedSignIns,
    LockedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    TokenHash,
    MemberId,
    AccountId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .col(ColumnDef::new(Members::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Members::AccountId).uuid().not_null())
                    .col(
                        ColumnDef::new(Members::Email)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Members::PasswordHash).text().null())
                    .col(ColumnDef::new(Members::Role).string().not_null())
                    .col(
                        ColumnDef::new(Members::FailedSignIns)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Members::LockedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ts(Members::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_members_account")
                    .table(Members::Table)
                    .col(Members::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(
                        ColumnDef::new(Sessions::TokenHash)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Sessions::MemberId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::AccountId).uuid().not_null())
                    .col(ColumnDef::new(Sessions::CsrfToken).string().not_null())
                    .col(ts(Sessions::CreatedAt))
                    .col(ts(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_member")
                    .table(Sessions::Table)
                    .col(Sessions::MemberId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Members::Table).to_owned())
            .await
    }
}

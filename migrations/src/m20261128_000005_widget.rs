//! Widget settings of an agent: which lead-form fields the widget shows and when, and the
//! agent's daily cap of widget messages.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    LeadFormFields,
    LeadFormTrigger,
    LeadFormAfterMessages,
    DailyMessageCap,
}

/// One column per statement: SQLite adds a single column per `ALTER TABLE`.
fn columns() -> [ColumnDef; 4] {
    [
        ColumnDef::new(Agents::LeadFormFields)
            .string()
            .not_null()
            .default("name,email")
            .take(),
        ColumnDef::new(Agents::LeadFormTrigger)
            .string()
            .not_null()
            .default("after_messages")
            .take(),
        ColumnDef::new(Agents::LeadFormAfterMessages)
            .integer()
            .not_null()
            .default(2)
            .take(),
        ColumnDef::new(Agents::DailyMessageCap)
            .integer()
            .not_null()
            .default(1000)
            .take(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut col in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Agents::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for c in [
            Agents::LeadFormFields,
            Agents::LeadFormTrigger,
            Agents::LeadFormAfterMessages,
            Agents::DailyMessageCap,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Agents::Table)
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

//! `jobs`: the durable job queue shared by every API and worker process.

use sea_orm::entity::prelude::*;

use crate::enums::{JobKind, JobStatus};

/// One queued job. A job is claimable when `status = 'queued'` and `available_at <= now`
/// (unix milliseconds); claiming pushes `available_at` to the end of the lease, so a job whose
/// worker died becomes claimable again when its lease runs out.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: JobKind,
    pub payload: String,
    pub status: JobStatus,
    pub available_at: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: Option<Uuid>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// Runs that ended without recording an outcome (the worker was killed or timed out).
    pub lost_runs: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

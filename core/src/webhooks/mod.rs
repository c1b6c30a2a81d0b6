//! Webhooks: signing, the retry schedule, endpoints, the outbox and delivery.

pub mod deliver;
pub mod endpoint;
pub mod outbox;
pub mod schedule;
pub mod signing;

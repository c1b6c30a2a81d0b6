mod agents;
mod auth;
mod cli;
mod docs;
mod errors;
mod queue;
mod rate_limit;
mod tenancy;

//! otoq-worker: takes jobs from the queue and runs them.

pub mod crawl;
pub mod extract;
pub mod jobs;
mod runner;
pub mod shopify;

pub use runner::run;

//! The `otoq` binary's wiring: start-up of the API and the workers, and telemetry.

pub mod server;
pub mod startup;
pub mod telemetry;

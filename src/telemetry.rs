//! Logging: human-readable by default, JSON with `OTOQ_LOG_FORMAT=json`; filter with `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (idempotent: later calls do nothing).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,poem=warn"));
    let json = std::env::var("OTOQ_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

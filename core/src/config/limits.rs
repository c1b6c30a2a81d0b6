//! Limits that keep hostile input from taking a process down: document extraction in a child
//! process, HTTP connections, and widget visitors.

use std::path::PathBuf;
use std::time::Duration;

use super::Vars;

/// How uploaded documents are read: in a child process (`otoq extract-document`) under limits.
#[derive(Clone, Debug)]
pub struct ExtractLimits {
    /// The executable run as the child (`OTOQ_EXTRACT_EXE`, default: this process's own).
    pub exe: Option<PathBuf>,
    /// Memory one child may allocate (`OTOQ_EXTRACT_MEMORY_MB`, default 512).
    pub memory_bytes: u64,
    /// CPU time one child may use (`OTOQ_EXTRACT_CPU_SECS`, default 60).
    pub cpu: Duration,
    /// Wall-clock time one child may take (`OTOQ_EXTRACT_TIMEOUT_SECS`, default 120).
    pub timeout: Duration,
    /// Largest text output a child may return (`OTOQ_EXTRACT_MAX_OUTPUT_MB`, default 32).
    pub max_output_bytes: usize,
    /// Children running at once in this process (`OTOQ_EXTRACT_CONCURRENCY`, default 2).
    pub concurrency: usize,
}

/// Limits of the HTTP server's connections.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers, and to start the next request on a
    /// kept-alive connection (`OTOQ_HEADER_READ_TIMEOUT_SECS`, default 15).
    pub header_read_timeout: Duration,
    /// A connection with no traffic at all this long is closed (`OTOQ_IDLE_TIMEOUT_SECS`,
    /// default 120; covers HTTP/2 and slow bodies).
    pub idle_timeout: Duration,
    /// Connections served at once; more are refused with 503 (`OTOQ_MAX_CONNECTIONS`, default
    /// half the process's file-descriptor limit, at most 10,000).
    pub max_connections: usize,
    /// Largest request line plus headers in bytes (`OTOQ_MAX_HEADER_BYTES`, default 16 KiB).
    pub max_header_bytes: usize,
}

/// Limits of the widget's public routes beyond the per-window request limits.
#[derive(Clone, Debug)]
pub struct WidgetLimits {
    /// New conversations per client IP per hour (`OTOQ_WIDGET_CONVERSATIONS_PER_IP_HOUR`, default 5).
    pub conversations_per_ip_hour: u64,
    /// Visitor tokens issued per client IP per hour (`OTOQ_WIDGET_VISITORS_PER_IP_HOUR`, default 10).
    pub visitors_per_ip_hour: u64,
    /// Share of the plan's monthly conversations one agent may open in an hour
    /// (`OTOQ_WIDGET_HOURLY_SHARE_PERCENT`, default 2; at least 2 an hour).
    pub hourly_share_percent: u64,
    /// Share of the plan's monthly conversations one agent may open in a day
    /// (`OTOQ_WIDGET_DAILY_SHARE_PERCENT`, default 10; at least 5 a day).
    pub daily_share_percent: u64,
}

impl WidgetLimits {
    /// New conversations an agent may open per hour on a plan with `monthly` conversations
    /// (no cap of its own at a 100 % share).
    pub fn per_agent_hour(&self, monthly: Option<u64>) -> Option<u64> {
        let share = self.hourly_share_percent;
        monthly
            .filter(|_| share < 100)
            .map(|m| (m * share).div_ceil(100).max(2))
    }

    /// New conversations an agent may open per day on a plan with `monthly` conversations.
    pub fn per_agent_day(&self, monthly: Option<u64>) -> Option<u64> {
        let share = self.daily_share_percent;
        monthly
            .filter(|_| share < 100)
            .map(|m| (m * share).div_ceil(100).max(5))
    }
}

pub(super) fn extract(vars: &Vars<'_>) -> anyhow::Result<ExtractLimits> {
    Ok(ExtractLimits {
        exe: vars.get("OTOQ_EXTRACT_EXE").map(PathBuf::from),
        memory_bytes: vars.parse("OTOQ_EXTRACT_MEMORY_MB", 512u64)?.max(64) << 20,
        cpu: Duration::from_secs(vars.parse("OTOQ_EXTRACT_CPU_SECS", 60u64)?.max(1)),
        timeout: Duration::from_secs(vars.parse("OTOQ_EXTRACT_TIMEOUT_SECS", 120u64)?.max(1)),
        max_output_bytes: vars.parse("OTOQ_EXTRACT_MAX_OUTPUT_MB", 32usize)?.max(1) << 20,
        concurrency: vars.parse("OTOQ_EXTRACT_CONCURRENCY", 2usize)?.clamp(1, 64),
    })
}

pub(super) fn server(vars: &Vars<'_>) -> anyhow::Result<ServerLimits> {
    let default_max = (open_files_limit() / 2).clamp(16, 10_000) as usize;
    Ok(ServerLimits {
        header_read_timeout: Duration::from_secs(
            vars.parse("OTOQ_HEADER_READ_TIMEOUT_SECS", 15u64)?.max(1),
        ),
        idle_timeout: Duration::from_secs(vars.parse("OTOQ_IDLE_TIMEOUT_SECS", 120u64)?.max(1)),
        max_connections: vars.parse("OTOQ_MAX_CONNECTIONS", default_max)?.max(1),
        max_header_bytes: vars
            .parse("OTOQ_MAX_HEADER_BYTES", 16usize << 10)?
            .max(8192),
    })
}

pub(super) fn widget(vars: &Vars<'_>) -> anyhow::Result<WidgetLimits> {
    Ok(WidgetLimits {
        conversations_per_ip_hour: vars.parse("OTOQ_WIDGET_CONVERSATIONS_PER_IP_HOUR", 5u64)?,
        visitors_per_ip_hour: vars.parse("OTOQ_WIDGET_VISITORS_PER_IP_HOUR", 10u64)?,
        hourly_share_percent: vars
            .parse("OTOQ_WIDGET_HOURLY_SHARE_PERCENT", 2u64)?
            .clamp(1, 100),
        daily_share_percent: vars
            .parse("OTOQ_WIDGET_DAILY_SHARE_PERCENT", 10u64)?
            .clamp(1, 100),
    })
}

/// The soft limit on open file descriptors (1024 when it cannot be read).
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_the_month_have_floors() {
        let w = WidgetLimits {
            conversations_per_ip_hour: 5,
            visitors_per_ip_hour: 10,
            hourly_share_percent: 2,
            daily_share_percent: 10,
        };
        assert_eq!(w.per_agent_day(Some(50)), Some(5));
        assert_eq!(w.per_agent_hour(Some(50)), Some(2));
        assert_eq!(w.per_agent_day(Some(15_000)), Some(1_500));
        assert_eq!(w.per_agent_hour(None), None);
        assert!(open_files_limit() > 0);
    }
}

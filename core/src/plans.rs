//! Plans and what they allow.

use std::fmt;
use std::str::FromStr;

/// A subscription plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Plan {
    Free,
    Starter,
    Growth,
    Pro,
    Enterprise,
}

impl Plan {
    /// Every plan, cheapest first.
    pub const ALL: [Plan; 5] = [
        Plan::Free,
        Plan::Starter,
        Plan::Growth,
        Plan::Pro,
        Plan::Enterprise,
    ];

    /// The name stored and shown for the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Starter => "starter",
            Plan::Growth => "growth",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    /// Whether keys of this plan may use the REST API.
    pub fn has_api_access(self) -> bool {
        matches!(self, Plan::Pro | Plan::Enterprise)
    }

    /// Most pages one website crawl of this plan may fetch.
    pub fn max_crawl_pages(self) -> u32 {
        match self {
            Plan::Free => 50,
            Plan::Starter => 200,
            Plan::Growth => 1_000,
            Plan::Pro => 5_000,
            Plan::Enterprise => 50_000,
        }
    }

    /// Conversations allowed per calendar month; `None` is unlimited.
    pub fn monthly_conversations(self) -> Option<u64> {
        match self {
            Plan::Free => Some(50),
            Plan::Starter => Some(1_000),
            Plan::Growth => Some(5_000),
            Plan::Pro => Some(15_000),
            Plan::Enterprise => None,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown plan {s:?}: expected one of free, starter, growth, pro, enterprise"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pro_and_enterprise_have_api_access() {
        let with: Vec<_> = Plan::ALL
            .into_iter()
            .filter(|p| p.has_api_access())
            .collect();
        assert_eq!(with, vec![Plan::Pro, Plan::Enterprise]);
    }

    #[test]
    fn plan_names_round_trip() {
        for p in Plan::ALL {
            assert_eq!(p.as_str().parse::<Plan>().unwrap(), p);
        }
        assert!("gold".parse::<Plan>().is_err());
    }
}

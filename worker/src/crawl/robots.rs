//! robots.txt: fetched once per crawl and obeyed (RFC 9309, via texting_robots).

use std::time::Duration;

use texting_robots::Robot;
use url::Url;

use super::fetch::Fetcher;

/// RFC 9309 asks crawlers to parse at least 500 KiB.
const MAX_ROBOTS_BYTES: usize = 500 << 10;
/// A Crawl-delay above this is not honoured in full (it would make a crawl take hours).
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(5);

/// The rules of one site for our user agent.
pub(crate) enum Robots {
    /// No robots.txt (4xx), or one that could not be parsed.
    AllowAll,
    /// robots.txt could not be read (5xx or network error): RFC 9309 says assume full disallow.
    DisallowAll(String),
    /// The parsed rules for our agent.
    Rules(Robot),
}

impl Robots {
    /// Parses `body` for `agent` (our product token, e.g. "otoqbot").
    pub(crate) fn parse(agent: &str, body: &[u8]) -> Robots {
        match Robot::new(agent, body) {
            Ok(robot) => Robots::Rules(robot),
            Err(e) => {
                tracing::debug!(error = %e, "robots.txt could not be parsed; allowing all");
                Robots::AllowAll
            }
        }
    }

    /// Fetches and parses the robots.txt of the site at `root`; also returns its Sitemap: URLs.
    pub(crate) async fn fetch(fetcher: &Fetcher, root: &Url, agent: &str) -> (Robots, Vec<Url>) {
        let robots_url = root.join("/robots.txt").expect("static path");
        let unreadable = |why: String| {
            Robots::DisallowAll(format!(
                "the site's robots.txt could not be read ({why}), and a crawler must then stay away"
            ))
        };
        let (final_url, response) = match fetcher.get(&robots_url).await {
            Ok(answer) => answer,
            // RFC 9309: after 5 redirects robots.txt may be treated as missing.
            Err(e) if e.starts_with("the page redirected more than") => {
                return (Robots::AllowAll, Vec::new());
            }
            Err(e) => return (unreadable(e), Vec::new()),
        };
        let status = response.status();
        if status.is_client_error() {
            return (Robots::AllowAll, Vec::new());
        }
        if !status.is_success() {
            return (
                unreadable(format!("the site answered {status}")),
                Vec::new(),
            );
        }
        let body = match fetcher
            .read_capped(&final_url, response, MAX_ROBOTS_BYTES)
            .await
        {
            Ok((body, _)) => body,
            Err(e) => return (unreadable(e), Vec::new()),
        };
        let robots = Robots::parse(agent, &body);
        let sitemaps = match &robots {
            Robots::Rules(robot) => robot
                .sitemaps
                .iter()
                .filter_map(|s| final_url.join(s.trim()).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .collect(),
            _ => Vec::new(),
        };
        (robots, sitemaps)
    }

    /// Whether `url` may be fetched.
    pub(crate) fn allowed(&self, url: &Url) -> bool {
        match self {
            Robots::AllowAll => true,
            Robots::DisallowAll(_) => false,
            Robots::Rules(robot) => robot.allowed(url.as_str()),
        }
    }

    /// The site's Crawl-delay for us, capped.
    pub(crate) fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Robots::Rules(robot) => robot
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d).min(MAX_CRAWL_DELAY)),
            _ => None,
        }
    }
}

/// Our robots.txt product token: the user agent up to the first '/' or space, lower-cased.
pub(crate) fn product_token(user_agent: &str) -> String {
    user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(robots: &Robots, path: &str) -> bool {
        robots.allowed(&Url::parse("https://e.com").unwrap().join(path).unwrap())
    }

    #[test]
    fn our_group_wins_over_star_and_longest_match_decides() {
        let txt = b"User-agent: *\nDisallow: /\n\nUser-agent: OtoqBot\nDisallow: /private/\nAllow: /private/open/\nCrawl-delay: 30\n\nSitemap: https://e.com/sm.xml\n";
        let robots = Robots::parse("otoqbot", txt);
        assert!(allowed(&robots, "/"));
        assert!(allowed(&robots, "/docs/a.html?x=1"));
        assert!(!allowed(&robots, "/private/"));
        assert!(!allowed(&robots, "/private/secret.html"));
        assert!(allowed(&robots, "/private/open/page.html"));
        assert_eq!(robots.crawl_delay(), Some(MAX_CRAWL_DELAY));
        let Robots::Rules(robot) = &robots else {
            panic!("rules expected")
        };
        assert_eq!(robot.sitemaps, ["https://e.com/sm.xml"]);

        let other = Robots::parse("someotherbot", txt);
        assert!(!allowed(&other, "/docs/a.html"));
    }

    #[test]
    fn star_group_and_wildcards() {
        let txt = b"User-agent: googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /*.php$\nDisallow: /tmp\n";
        let robots = Robots::parse("otoqbot", txt);
        assert!(allowed(&robots, "/index.html"));
        assert!(!allowed(&robots, "/x/page.php"));
        assert!(allowed(&robots, "/x/page.php?q=1"));
        assert!(!allowed(&robots, "/tmp/file"));
        assert!(!allowed(&robots, "/tmpfile"));
        assert_eq!(robots.crawl_delay(), None);
    }

    #[test]
    fn empty_and_garbage_allow_everything() {
        assert!(allowed(&Robots::parse("otoqbot", b""), "/a"));
        assert!(allowed(
            &Robots::parse("otoqbot", b"\xff\xfe<html>not robots</html>"),
            "/a"
        ));
        assert!(!allowed(&Robots::DisallowAll("x".into()), "/a"));
    }

    #[test]
    fn product_tokens() {
        assert_eq!(
            product_token("otoqbot/0.1 (+https://github.com/otoq)"),
            "otoqbot"
        );
        assert_eq!(product_token("MyBot"), "mybot");
    }
}

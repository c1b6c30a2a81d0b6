//! Fetching one URL for the crawler: guarded redirects, status and type checks, size caps,
//! compressed pages decoded.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use otoq_core::net_guard::{self, Guard};
use reqwest::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use url::Url;

use super::CrawlConfig;
use super::charset::decode_html;
use super::encoding::{self, DecodeError};

/// What fetching a page gave.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// An HTML page, decoded.
    Html {
        text: String,
        /// (noindex, nofollow) from the X-Robots-Tag header.
        header_robots: (bool, bool),
    },
    /// The page could not be read; the reason is for a person.
    Failed(String),
    /// The page is something the crawler does not read (not HTML).
    Skipped(String),
}

/// Shared, thread-safe fetching state of one crawl.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    guard: Guard,
    max_redirects: usize,
    max_page_bytes: usize,
    max_total_bytes: u64,
    agent: String,
    total_bytes: AtomicU64,
    exhausted: AtomicBool,
}

/// A GET that followed its redirects: the final URL and the response.
pub(crate) type Answer = (Url, reqwest::Response);

impl Fetcher {
    pub(crate) fn new(cfg: &CrawlConfig, agent: &str) -> Fetcher {
        Fetcher {
            client: net_guard::http_client(&cfg.guard, cfg.page_timeout, &cfg.user_agent),
            guard: cfg.guard,
            max_redirects: cfg.max_redirects,
            max_page_bytes: cfg.max_page_bytes,
            max_total_bytes: cfg.max_total_bytes,
            agent: agent.to_string(),
            total_bytes: AtomicU64::new(0),
            exhausted: AtomicBool::new(false),
        }
    }

    /// Bytes read so far by this crawl (pages, robots.txt, sitemaps).
    pub(crate) fn total_bytes(&self) -> u64 {
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// Whether the crawl's total byte budget is used up.
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }

    /// GETs `url`, following redirects with every hop checked by the guard.
    pub(crate) async fn get(&self, url: &Url) -> Result<Answer, String> {
        net_guard::get_following_redirects(&self.client, &self.guard, url, self.max_redirects)
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads a body up to `cap` bytes; `Ok((bytes, true))` when it was cut at the cap.
    pub(crate) async fn read_capped(
        &self,
        url: &Url,
        mut response: reqwest::Response,
        cap: usize,
    ) -> Result<(Vec<u8>, bool), String> {
        let mut body = Vec::new();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok((body, false)),
                Err(e) => return Err(net_guard::request_error(url, &e).to_string()),
            };
            let total = self
                .total_bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed)
                + chunk.len() as u64;
            if total > self.max_total_bytes {
                self.exhausted.store(true, Ordering::Relaxed);
                return Err("the crawl reached its total download limit".into());
            }
            let room = cap - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                return Ok((body, true));
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// Reads a page response: status, type and size checks, then the decoded text.
    pub(crate) async fn read_page(&self, url: &Url, response: reqwest::Response) -> Fetched {
        let status = response.status();
        if !status.is_success() {
            return Fetched::Failed(format!("the site answered {status}"));
        }
        let content_type = header(&response, CONTENT_TYPE.as_str());
        if let Some(ct) = &content_type
            && !is_html(ct)
        {
            let essence = ct.split(';').next().unwrap_or("").trim();
            return Fetched::Skipped(format!("not a web page ({essence})"));
        }
        let too_large = || {
            Fetched::Failed(format!(
                "page too large (more than {})",
                human_bytes(self.max_page_bytes)
            ))
        };
        let declared =
            header(&response, CONTENT_LENGTH.as_str()).and_then(|l| l.parse::<u64>().ok());
        if declared.is_some_and(|l| l > self.max_page_bytes as u64) {
            return too_large();
        }
        let header_robots = x_robots_tag(&response, &self.agent);
        let coding = header(&response, CONTENT_ENCODING.as_str());
        let bytes = match self.read_capped(url, response, self.max_page_bytes).await {
            Ok((_, true)) => return too_large(),
            Ok((bytes, false)) => bytes,
            Err(reason) => return Fetched::Failed(reason),
        };
        // The cap holds for the decoded page too: a compression bomb fails only its page.
        let cap = self.max_page_bytes;
        let decoded =
            tokio::task::spawn_blocking(move || encoding::decode(coding.as_deref(), bytes, cap))
                .await;
        match decoded {
            Ok(Ok(bytes)) => Fetched::Html {
                text: decode_html(&bytes, content_type.as_deref()),
                header_robots,
            },
            Ok(Err(DecodeError::TooLarge)) => Fetched::Failed(format!(
                "page too large once decompressed (more than {})",
                human_bytes(self.max_page_bytes)
            )),
            Ok(Err(DecodeError::Unsupported(name))) => Fetched::Failed(format!(
                "the page is compressed with an encoding the crawler does not read ({name})"
            )),
            Ok(Err(DecodeError::Corrupt(name))) => {
                Fetched::Failed(format!("the page's {name} compression is corrupt"))
            }
            Err(_) => Fetched::Failed("the page could not be decompressed".into()),
        }
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn is_html(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.is_empty() || essence == "text/html" || essence == "application/xhtml+xml"
}

/// (noindex, nofollow) from X-Robots-Tag headers meant for every bot or for `agent`.
fn x_robots_tag(response: &reqwest::Response, agent: &str) -> (bool, bool) {
    let (mut noindex, mut nofollow) = (false, false);
    for value in response.headers().get_all("x-robots-tag") {
        let Ok(value) = value.to_str() else { continue };
        let value = value.to_ascii_lowercase();
        let directives = match value.split_once(':') {
            // "otherbot: noindex" is not for us (nor is "unavailable_after: <date>").
            Some((bot, rest)) if !bot.contains(',') && !bot.trim().contains(' ') => {
                if bot.trim() != agent {
                    continue;
                }
                rest.to_string()
            }
            _ => value,
        };
        for directive in directives.split(',') {
            match directive.trim() {
                "noindex" => noindex = true,
                "nofollow" => nofollow = true,
                "none" => (noindex, nofollow) = (true, true),
                _ => {}
            }
        }
    }
    (noindex, nofollow)
}

/// "5 MiB", "512 KiB", "100 bytes".
pub(crate) fn human_bytes(n: usize) -> String {
    const MIB: usize = 1 << 20;
    const KIB: usize = 1 << 10;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(5 << 20), "5 MiB");
        assert_eq!(human_bytes(512 << 10), "512 KiB");
        assert_eq!(human_bytes(3 << 19), "1.5 MiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }

    #[test]
    fn html_content_types() {
        assert!(is_html("text/html; charset=utf-8"));
        assert!(is_html("Application/XHTML+XML"));
        assert!(is_html(""));
        assert!(!is_html("application/pdf"));
        assert!(!is_html("text/plain"));
    }
}

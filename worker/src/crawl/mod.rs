//! Website crawling: one site, breadth first, robots.txt obeyed, every request guarded.

mod charset;
mod encoding;
mod fetch;
mod robots;
mod site;
mod sitemap;
#[cfg(test)]
pub mod test_site;

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use otoq_core::net_guard::{Guard, GuardError};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinSet;
use url::Url;

use crate::extract::ExtractedDoc;
use crate::extract::html::{HtmlPage, extract_html};
use fetch::{Fetched, Fetcher};
use robots::Robots;
use site::{Site, dedup_key, non_html_extension};

/// Limits and manners of one crawl.
#[derive(Clone, Debug)]
pub struct CrawlConfig {
    /// Pages fetched at most (the start page included; failures count too).
    pub max_pages: usize,
    /// Link distance from the start page (sitemap pages are at depth 1).
    pub max_depth: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Pause before each request of each worker (raised to the site's Crawl-delay, up to 5 s).
    pub delay: Duration,
    /// Time for one request, body included.
    pub page_timeout: Duration,
    /// A page larger than this fails as too large.
    pub max_page_bytes: usize,
    /// The crawl stops fetching once this much has been downloaded.
    pub max_total_bytes: u64,
    /// Redirects followed per request.
    pub max_redirects: usize,
    /// User-Agent header; its first word is the robots.txt token.
    pub user_agent: String,
    /// Which addresses may be fetched.
    pub guard: Guard,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            max_pages: 500,
            max_depth: 5,
            concurrency: 4,
            delay: Duration::ZERO,
            page_timeout: Duration::from_secs(15),
            max_page_bytes: 5 << 20,
            max_total_bytes: 500 << 20,
            max_redirects: 5,
            user_agent: "otoqbot/0.1 (+https://github.com/otoq)".into(),
            guard: Guard::default(),
        }
    }
}

/// What the crawl reports while it runs.
#[derive(Clone, Debug)]
pub enum CrawlEvent {
    /// The number of distinct pages known so far (throttled).
    Discovered { total: usize },
    /// A page was read.
    Page(CrawledPage),
    /// A page could not be read; the reason is for a person.
    Failed { url: Url, reason: String },
    /// A URL was deliberately not read (robots.txt, not HTML, noindex, no text…).
    Skipped { url: Url, reason: String },
}

/// One page read by the crawler.
#[derive(Clone, Debug)]
pub struct CrawledPage {
    /// The URL the content came from, after redirects.
    pub url: Url,
    /// Link distance from the start page.
    pub depth: usize,
    /// The extracted text.
    pub doc: ExtractedDoc,
    /// Its lines outside preformatted text, for spotting what the site repeats on every page.
    pub lines: Vec<String>,
}

/// Totals of a finished crawl.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrawlSummary {
    /// `Page` events sent.
    pub pages: usize,
    /// `Failed` events sent.
    pub failed: usize,
    /// `Skipped` events sent.
    pub skipped: usize,
    /// Bytes downloaded (pages, robots.txt, sitemaps).
    pub bytes: u64,
}

/// Why a crawl could not run, for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrawlError {
    /// The start address is not allowed.
    #[error("{0}")]
    Refused(GuardError),
    /// The start page could not be read.
    #[error("{0}")]
    StartPage(String),
    /// The receiver of the events went away.
    #[error("the crawl was stopped")]
    Cancelled,
}

/// How often at most `Discovered` is sent (unless many URLs arrive at once).
const DISCOVERED_EVERY: Duration = Duration::from_millis(250);
const DISCOVERED_STEP: usize = 25;

/// Crawls the site of `start`, sending events as pages are read; returns the totals.
/// Dropping the receiver stops the crawl (`CrawlError::Cancelled`).
pub async fn crawl(
    mut start: Url,
    cfg: CrawlConfig,
    events: Sender<CrawlEvent>,
) -> Result<CrawlSummary, CrawlError> {
    start.set_fragment(None);
    cfg.guard
        .check_url(&start)
        .await
        .map_err(CrawlError::Refused)?;
    let agent = robots::product_token(&cfg.user_agent);
    let fetcher = Fetcher::new(&cfg, &agent);
    let Opened {
        final_url,
        first,
        site,
        robots,
        sitemaps,
    } = open_site(&fetcher, &start, &agent).await?;
    let delay = cfg.delay.max(robots.crawl_delay().unwrap_or_default());

    let ctx = Arc::new(Ctx {
        fetcher,
        site,
        robots,
    });
    let mut crawl = Crawl::new(ctx.clone(), &cfg, events);
    crawl.seen.insert(dedup_key(&final_url));
    if let Some(start) = ctx.site.canonical(&start) {
        crawl.seen.insert(dedup_key(&start));
    }
    crawl.known = 1;
    crawl.discovered().await?;
    let first = read(final_url, 0, first).await;
    crawl.handle(first).await?;

    if cfg.max_depth >= 1 {
        let roots = if sitemaps.is_empty() {
            vec![ctx.site.root().join("/sitemap.xml").expect("static path")]
        } else {
            sitemaps
        };
        let room = cfg.max_pages.saturating_sub(crawl.known);
        for url in sitemap::discover(&ctx.fetcher, roots, room.saturating_mul(2)).await {
            crawl.consider(&url, 1).await?;
        }
    }

    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < cfg.concurrency.max(1) && !ctx.fetcher.exhausted() {
            let Some((url, depth)) = crawl.next() else {
                break;
            };
            tasks.spawn(fetch_page(ctx.clone(), url, depth, delay));
        }
        match tasks.join_next().await {
            None => break,
            Some(Ok(result)) => crawl.handle(result).await?,
            Some(Err(e)) => tracing::warn!(error = %e, "a crawl task failed"),
        }
    }
    crawl.discovered_now().await?;
    Ok(CrawlSummary {
        bytes: ctx.fetcher.total_bytes(),
        ..crawl.summary
    })
}

/// The start page, read, and the site it leads to.
struct Opened {
    final_url: Url,
    first: Fetched,
    site: Site,
    robots: Robots,
    sitemaps: Vec<Url>,
}

/// Fetches the start page (its redirects decide the site) and the site's robots.txt; any
/// reason the crawl cannot begin is an error for a person.
async fn open_site(fetcher: &Fetcher, start: &Url, agent: &str) -> Result<Opened, CrawlError> {
    let (final_url, response) = fetcher.get(start).await.map_err(CrawlError::StartPage)?;
    let status = response.status();
    if !status.is_success() {
        return Err(CrawlError::StartPage(format!("the site answered {status}")));
    }
    let site = Site::new(&final_url);
    let (robots, sitemaps) = Robots::fetch(fetcher, &site.root(), agent).await;
    if let Robots::DisallowAll(reason) = &robots {
        return Err(CrawlError::StartPage(reason.clone()));
    }
    if !robots.allowed(&final_url) {
        return Err(CrawlError::StartPage(format!(
            "the site's robots.txt does not allow {agent} to read {final_url}"
        )));
    }
    let first = match fetcher.read_page(&final_url, response).await {
        Fetched::Failed(reason) => return Err(CrawlError::StartPage(reason)),
        Fetched::Skipped(reason) => {
            return Err(CrawlError::StartPage(format!("the start page is {reason}")));
        }
        html => html,
    };
    Ok(Opened {
        final_url,
        first,
        site,
        robots,
        sitemaps,
    })
}

/// What every fetch task shares.
struct Ctx {
    fetcher: Fetcher,
    site: Site,
    robots: Robots,
}

/// The result of fetching and reading one URL.
struct PageResult {
    final_url: Url,
    depth: usize,
    outcome: Outcome,
}

impl PageResult {
    fn new(final_url: Url, depth: usize, outcome: Outcome) -> PageResult {
        PageResult {
            final_url,
            depth,
            outcome,
        }
    }
}

enum Outcome {
    Read(HtmlPage),
    Failed(String),
    Skipped(String),
}

/// Fetches one queued page: after the redirects it must still be on the site and allowed.
async fn fetch_page(ctx: Arc<Ctx>, url: Url, depth: usize, delay: Duration) -> PageResult {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (final_url, response) = match ctx.fetcher.get(&url).await {
        Ok(answer) => answer,
        Err(reason) => return PageResult::new(url, depth, Outcome::Failed(reason)),
    };
    if final_url != url {
        let skip = if ctx.site.canonical(&final_url).is_none() {
            let host = final_url.host_str().unwrap_or("?");
            Some(format!("it redirects to another site ({host})"))
        } else if !ctx.robots.allowed(&final_url) {
            Some("robots.txt does not allow it".to_string())
        } else {
            None
        };
        if let Some(reason) = skip {
            return PageResult::new(final_url, depth, Outcome::Skipped(reason));
        }
    }
    let fetched = ctx.fetcher.read_page(&final_url, response).await;
    read(final_url, depth, fetched).await
}

/// Extracts a fetched page (on a blocking thread: parsing a large page is CPU work).
async fn read(url: Url, depth: usize, fetched: Fetched) -> PageResult {
    let (text, header_robots) = match fetched {
        Fetched::Failed(reason) => return PageResult::new(url, depth, Outcome::Failed(reason)),
        Fetched::Skipped(reason) => return PageResult::new(url, depth, Outcome::Skipped(reason)),
        Fetched::Html {
            text,
            header_robots,
        } => (text, header_robots),
    };
    let base = url.clone();
    let len = text.len();
    let parsed = crate::extract::parse_html_budgeted(len, move || extract_html(&text, &base));
    let outcome = match parsed.await {
        Ok(mut page) => {
            page.noindex |= header_robots.0;
            page.nofollow |= header_robots.1;
            Outcome::Read(page)
        }
        Err(e) => {
            tracing::warn!(%url, error = %e, "HTML extraction failed");
            Outcome::Failed("the page could not be read".into())
        }
    };
    PageResult::new(url, depth, outcome)
}

/// The crawl's bookkeeping, owned by the loop in [`crawl`].
struct Crawl {
    ctx: Arc<Ctx>,
    events: Sender<CrawlEvent>,
    max_pages: usize,
    max_depth: usize,
    /// Dedup keys of every URL decided on (queued, skipped or done).
    seen: HashSet<String>,
    /// Dedup keys of pages whose result was handled (catches two URLs redirecting to one page).
    done: HashSet<String>,
    /// One queue per depth, so the shallowest page is always next.
    queues: Vec<VecDeque<Url>>,
    /// Distinct same-site pages queued or fetched.
    known: usize,
    summary: CrawlSummary,
    last_discovered: (usize, Instant),
}

impl Crawl {
    fn new(ctx: Arc<Ctx>, cfg: &CrawlConfig, events: Sender<CrawlEvent>) -> Crawl {
        Crawl {
            ctx,
            events,
            max_pages: cfg.max_pages.max(1),
            max_depth: cfg.max_depth,
            seen: HashSet::new(),
            done: HashSet::new(),
            queues: Vec::new(),
            known: 0,
            summary: CrawlSummary::default(),
            last_discovered: (0, Instant::now()),
        }
    }

    async fn send(&self, event: CrawlEvent) -> Result<(), CrawlError> {
        self.events
            .send(event)
            .await
            .map_err(|_| CrawlError::Cancelled)
    }

    async fn skipped(&mut self, url: Url, reason: impl Into<String>) -> Result<(), CrawlError> {
        self.summary.skipped += 1;
        self.send(CrawlEvent::Skipped {
            url,
            reason: reason.into(),
        })
        .await
    }

    /// Sends `Discovered` if the count grew enough, or long enough ago.
    async fn discovered(&mut self) -> Result<(), CrawlError> {
        let (last, at) = self.last_discovered;
        if self.known > last
            && (self.known - last >= DISCOVERED_STEP
                || at.elapsed() >= DISCOVERED_EVERY
                || last == 0)
        {
            self.discovered_now().await?;
        }
        Ok(())
    }

    async fn discovered_now(&mut self) -> Result<(), CrawlError> {
        if self.known != self.last_discovered.0 {
            self.last_discovered = (self.known, Instant::now());
            self.send(CrawlEvent::Discovered { total: self.known })
                .await?;
        }
        Ok(())
    }

    /// Queues `url` at `depth` if it is a new, allowed page of the site and there is room.
    async fn consider(&mut self, url: &Url, depth: usize) -> Result<(), CrawlError> {
        if self.known >= self.max_pages || depth > self.max_depth {
            return Ok(());
        }
        let Some(url) = self.ctx.site.canonical(url) else {
            return Ok(());
        };
        if !self.seen.insert(dedup_key(&url)) {
            return Ok(());
        }
        if let Some(ext) = non_html_extension(&url) {
            return self.skipped(url, format!("not a web page (.{ext})")).await;
        }
        if !self.ctx.robots.allowed(&url) {
            return self.skipped(url, "robots.txt does not allow it").await;
        }
        if self.queues.len() <= depth {
            self.queues.resize_with(depth + 1, VecDeque::new);
        }
        self.queues[depth].push_back(url);
        self.known += 1;
        self.discovered().await
    }

    /// The next page to fetch: the shallowest queued one not already read under another URL.
    fn next(&mut self) -> Option<(Url, usize)> {
        for (depth, queue) in self.queues.iter_mut().enumerate() {
            while let Some(url) = queue.pop_front() {
                if !self.done.contains(&dedup_key(&url)) {
                    return Some((url, depth));
                }
            }
        }
        None
    }

    /// Reports one fetched page and queues its links.
    async fn handle(&mut self, result: PageResult) -> Result<(), CrawlError> {
        let PageResult {
            final_url,
            depth,
            outcome,
        } = result;
        let key = dedup_key(
            &self
                .ctx
                .site
                .canonical(&final_url)
                .unwrap_or(final_url.clone()),
        );
        if !self.done.insert(key.clone()) {
            return Ok(());
        }
        self.seen.insert(key);
        let page = match outcome {
            Outcome::Failed(reason) => {
                self.summary.failed += 1;
                return self
                    .send(CrawlEvent::Failed {
                        url: final_url,
                        reason,
                    })
                    .await;
            }
            Outcome::Skipped(reason) => return self.skipped(final_url, reason).await,
            Outcome::Read(page) => page,
        };
        if !page.nofollow && depth < self.max_depth {
            for link in &page.links {
                self.consider(link, depth + 1).await?;
            }
        }
        if page.noindex {
            return self
                .skipped(final_url, "the page asks not to be indexed (noindex)")
                .await;
        }
        if page.doc.sections.iter().all(|s| s.text.trim().is_empty()) {
            return self.skipped(final_url, "no text").await;
        }
        let mut doc = page.doc;
        if doc.title.is_empty() {
            doc.title = final_url.to_string();
        }
        self.summary.pages += 1;
        self.send(CrawlEvent::Page(CrawledPage {
            url: final_url,
            depth,
            doc,
            lines: page.lines,
        }))
        .await
    }
}

#[cfg(test)]
mod tests;

//! Website crawling: one site, breadth first, robots.txt obeyed, every request guarded.

mod charset;
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
    let outcome = match tokio::task::spawn_blocking(move || extract_html(&text, &base)).await {
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
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tokio::sync::mpsc;

    use super::test_site::{Route, TestSite};
    use super::*;

    fn config() -> CrawlConfig {
        CrawlConfig {
            guard: Guard {
                allow_private: true,
            },
            page_timeout: Duration::from_secs(5),
            ..CrawlConfig::default()
        }
    }

    /// The events of one crawl, by path (and query).
    #[derive(Debug, Default)]
    struct Report {
        result: Option<Result<CrawlSummary, CrawlError>>,
        pages: BTreeMap<String, CrawledPage>,
        failed: BTreeMap<String, String>,
        skipped: BTreeMap<String, String>,
        discovered: Vec<usize>,
        order: Vec<String>,
    }

    impl Report {
        fn page_paths(&self) -> Vec<&str> {
            self.pages.keys().map(String::as_str).collect()
        }

        fn summary(&self) -> CrawlSummary {
            self.result.clone().unwrap().unwrap()
        }
    }

    fn path_of(url: &Url) -> String {
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn run(start: Url, cfg: CrawlConfig) -> Report {
        let (tx, mut rx) = mpsc::channel(8);
        let handle = tokio::spawn(crawl(start, cfg, tx));
        let mut report = Report::default();
        while let Some(event) = rx.recv().await {
            match event {
                CrawlEvent::Discovered { total } => report.discovered.push(total),
                CrawlEvent::Page(page) => {
                    report.order.push(path_of(&page.url));
                    let previous = report.pages.insert(path_of(&page.url), page);
                    assert!(previous.is_none(), "page sent twice");
                }
                CrawlEvent::Failed { url, reason } => {
                    report.order.push(path_of(&url));
                    report.failed.insert(path_of(&url), reason);
                }
                CrawlEvent::Skipped { url, reason } => {
                    report.skipped.insert(path_of(&url), reason);
                }
            }
        }
        report.result = Some(handle.await.unwrap());
        report
    }

    fn page(title: &str, body: &str) -> String {
        format!(
            "<html><head><title>{title}</title></head><body><h1>{title}</h1><p>Text of {title}.</p>{body}</body></html>"
        )
    }

    #[tokio::test]
    async fn crawls_a_small_site() {
        let home = page(
            "Home",
            r#"<nav><a href="/a">A</a></nav>
            <a href="/missing">broken</a> <a href="/slow">slow</a> <a href="/report.pdf">pdf</a>
            <a href="/data">data</a> <a href="/private/secret.html">secret</a>
            <a href="https://external.invalid/page">external</a> <a href="/noindex">noindex</a>
            <a href="/empty">empty</a> <a href="/moved">moved</a> <a href="/away">away</a>
            <a href="/a#section">a again</a> <a href="/index.html">home again</a>"#,
        );
        let site = TestSite::builder()
            .page("/", &home)
            .page("/a", &page("A", r#"<a href="/a/b">B</a>"#))
            .page("/a/b", &page("B", r#"<a href="/a/b/c">C</a>"#))
            .page("/a/b/c", &page("C", r#"<a href="/">home</a>"#))
            .page("/orphan.html", &page("Orphan", ""))
            .page("/private/secret.html", &page("Secret", ""))
            .route(
                "/slow",
                Route::html(&page("Slow", "")).with_delay(Duration::from_secs(20)),
            )
            .route("/report.pdf", Route::new(200, "application/pdf", "%PDF-1.4"))
            .route("/data", Route::new(200, "application/json", "{}"))
            .page(
                "/noindex",
                r#"<meta name="robots" content="noindex"><p>Hidden</p><a href="/from-noindex">next</a>"#,
            )
            .page("/from-noindex", &page("From noindex", ""))
            .page("/empty", "<html><body><script>app()</script></body></html>")
            .route("/moved", Route::redirect(301, "/target"))
            .page("/target", &page("Target", ""))
            .route("/away", Route::redirect(302, "http://localhost:{port}/elsewhere"))
            .route(
                "/robots.txt",
                Route::new(
                    200,
                    "text/plain",
                    "User-agent: *\nDisallow: /private/\n\nSitemap: {origin}/sitemap.xml\n",
                ),
            )
            .route(
                "/sitemap.xml",
                Route::new(
                    200,
                    "application/xml",
                    r#"<urlset><url><loc>{origin}/orphan.html</loc></url><url><loc>{origin}/a</loc></url></urlset>"#,
                ),
            )
            .start()
            .await;
        let cfg = CrawlConfig {
            page_timeout: Duration::from_millis(1500),
            ..config()
        };
        let started = Instant::now();
        let report = run(site.url("/"), cfg).await;
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "the slow page stalled the crawl"
        );

        assert_eq!(
            report.page_paths(),
            [
                "/",
                "/a",
                "/a/b",
                "/a/b/c",
                "/from-noindex",
                "/orphan.html",
                "/target"
            ]
        );
        assert_eq!(report.failed["/missing"], "the site answered 404 Not Found");
        assert_eq!(report.failed["/slow"], "127.0.0.1 took too long to answer");
        assert_eq!(report.failed.len(), 2);
        assert_eq!(report.skipped["/report.pdf"], "not a web page (.pdf)");
        assert_eq!(report.skipped["/data"], "not a web page (application/json)");
        assert_eq!(
            report.skipped["/private/secret.html"],
            "robots.txt does not allow it"
        );
        assert_eq!(
            report.skipped["/noindex"],
            "the page asks not to be indexed (noindex)"
        );
        assert_eq!(report.skipped["/empty"], "no text");
        assert_eq!(
            report.skipped["/elsewhere"],
            "it redirects to another site (localhost)"
        );
        assert_eq!(report.skipped.len(), 6);

        // Never requested: the PDF, the disallowed page; each page once (no /index.html, no #a).
        assert_eq!(site.hits("/report.pdf"), 0);
        assert_eq!(site.hits("/private/secret.html"), 0);
        assert_eq!(site.hits("/index.html"), 0);
        for path in ["/", "/a", "/a/b", "/robots.txt", "/sitemap.xml", "/target"] {
            assert_eq!(site.hits(path), 1, "{path}");
        }

        let home = &report.pages["/"];
        assert_eq!(home.depth, 0);
        assert_eq!(home.doc.title, "Home");
        assert_eq!(
            home.doc.sections[0].text,
            "Text of Home.\n\nbroken slow pdf data secret external noindex empty moved away a again home again"
        );
        assert_eq!(report.pages["/a/b/c"].depth, 3);
        assert_eq!(report.pages["/orphan.html"].depth, 1);
        assert_eq!(report.pages["/target"].url, site.url("/target"));

        let summary = report.summary();
        assert_eq!((summary.pages, summary.failed, summary.skipped), (7, 2, 6));
        assert!(summary.bytes > 1000, "{summary:?}");
        let last = *report.discovered.last().unwrap();
        assert_eq!(last, 13, "{:?}", report.discovered);
        assert!(report.discovered.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn breadth_first_within_max_depth() {
        let site = TestSite::builder()
            .page(
                "/",
                &page("D0", r#"<a href="/d1">1</a> <a href="/wide">w</a>"#),
            )
            .page("/d1", &page("D1", r#"<a href="/d2">2</a>"#))
            .page("/d2", &page("D2", r#"<a href="/d3">3</a>"#))
            .page("/d3", &page("D3", r#"<a href="/d4">4</a>"#))
            .page("/wide", &page("Wide", ""))
            .start()
            .await;
        let cfg = CrawlConfig {
            max_depth: 2,
            concurrency: 1,
            ..config()
        };
        let report = run(site.url("/"), cfg).await;
        assert_eq!(report.order, ["/", "/d1", "/wide", "/d2"]);
        assert_eq!(site.hits("/d3"), 0);
        assert_eq!(report.pages["/d2"].depth, 2);
    }

    #[tokio::test]
    async fn max_pages_is_respected() {
        let links: String = (0..30)
            .map(|i| format!(r#"<a href="/p{i}">{i}</a> "#))
            .collect();
        let mut builder = TestSite::builder().page("/", &page("Home", &links));
        for i in 0..30 {
            builder = builder.page(&format!("/p{i}"), &page(&format!("P{i}"), &links));
        }
        let site = builder.start().await;
        let cfg = CrawlConfig {
            max_pages: 5,
            ..config()
        };
        let report = run(site.url("/"), cfg).await;
        assert_eq!(report.summary().pages, 5);
        assert_eq!(report.page_paths(), ["/", "/p0", "/p1", "/p2", "/p3"]);
        let page_requests = site
            .requests()
            .iter()
            .filter(|p| !p.ends_with(".txt") && !p.ends_with(".xml"))
            .count();
        assert_eq!(page_requests, 5);
        assert_eq!(report.discovered.last(), Some(&5));
    }

    /// mdBook builds its sidebar with JavaScript; crawlers see it via <noscript> and toc.html.
    #[tokio::test]
    async fn mdbook_site_is_fully_discovered() {
        // Like mdBook, every page points at the table of contents relative to the book root.
        let chapter = |title: &str, root: &str| {
            format!(
                r#"<!DOCTYPE HTML><html><head><title>{title} - Book</title><script src="{root}toc.js"></script></head>
                <body><nav id="sidebar" class="sidebar"><mdbook-sidebar-scrollbox></mdbook-sidebar-scrollbox>
                <noscript><iframe class="sidebar-iframe-outer" src="{root}toc.html"></iframe></noscript></nav>
                <div id="content"><main><h1>{title}</h1><p>About {title}.</p></main></div></body></html>"#
            )
        };
        let toc = r#"<!DOCTYPE HTML><html><head><base target="_parent"></head><body class="sidebar-iframe-inner">
            <ol class="chapter"><li class="chapter-item"><a href="intro.html">Intro</a></li>
            <li class="chapter-item"><a href="guide/setup.html">Setup</a></li>
            <li class="chapter-item"><ol class="section"><li><a href="guide/deep/advanced.html">Advanced</a></li></ol></li>
            </ol></body></html>"#;
        let site = TestSite::builder()
            .route("/book/", Route::redirect(302, "/book/index.html"))
            .page("/book/index.html", &chapter("Welcome", ""))
            .page("/book/toc.html", toc)
            .page("/book/intro.html", &chapter("Intro", ""))
            .page("/book/guide/setup.html", &chapter("Setup", "../"))
            .page(
                "/book/guide/deep/advanced.html",
                &chapter("Advanced", "../../"),
            )
            .route(
                "/book/toc.js",
                Route::new(200, "text/javascript", "/* sidebar */"),
            )
            .start()
            .await;
        let report = run(site.url("/book/"), config()).await;
        assert_eq!(
            report.page_paths(),
            [
                "/book/guide/deep/advanced.html",
                "/book/guide/setup.html",
                "/book/index.html",
                "/book/intro.html",
                "/book/toc.html",
            ]
        );
        assert_eq!(report.pages["/book/guide/setup.html"].doc.title, "Setup");
        assert_eq!(
            report.pages["/book/guide/setup.html"].doc.sections[0].text,
            "About Setup."
        );
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }

    #[tokio::test]
    async fn private_addresses_are_refused_by_default() {
        let site = TestSite::builder()
            .page("/", &page("Home", ""))
            .start()
            .await;
        let cfg = CrawlConfig::default();
        let report = run(site.url("/"), cfg).await;
        assert_eq!(
            report.result.unwrap().unwrap_err().to_string(),
            "the address 127.0.0.1 is loopback and not allowed"
        );
        assert!(site.requests().is_empty());
    }

    #[tokio::test]
    async fn start_page_failures_are_errors() {
        let site = TestSite::builder()
            .route("/pdf", Route::new(200, "application/pdf", "%PDF"))
            .start()
            .await;
        let report = run(site.url("/nothing"), config()).await;
        assert_eq!(
            report.result.unwrap(),
            Err(CrawlError::StartPage(
                "the site answered 404 Not Found".into()
            ))
        );
        let report = run(site.url("/pdf"), config()).await;
        assert_eq!(
            report.result.unwrap().unwrap_err().to_string(),
            "the start page is not a web page (application/pdf)"
        );

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", closed.local_addr().unwrap())).unwrap();
        drop(closed);
        let message = run(url, config())
            .await
            .result
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("could not connect to 127.0.0.1: "),
            "{message}"
        );
    }

    #[tokio::test]
    async fn robots_txt_rules_and_outages() {
        let site = TestSite::builder()
            .page(
                "/",
                &page("Home", r#"<a href="/a">a</a><a href="/b">b</a>"#),
            )
            .page("/a", &page("A", ""))
            .page("/b", &page("B", ""))
            .route(
                "/robots.txt",
                Route::new(
                    200,
                    "text/plain",
                    "User-agent: *\nDisallow: /a\n\nUser-agent: otoqbot\nDisallow: /b\n",
                ),
            )
            .start()
            .await;
        let report = run(site.url("/"), config()).await;
        assert_eq!(report.page_paths(), ["/", "/a"]);
        assert_eq!(report.skipped["/b"], "robots.txt does not allow it");

        let site = TestSite::builder()
            .page("/", &page("Home", ""))
            .route("/robots.txt", Route::new(503, "text/plain", "down"))
            .start()
            .await;
        let err = run(site.url("/"), config())
            .await
            .result
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the site's robots.txt could not be read (the site answered 503 Service Unavailable), and a crawler must then stay away"
        );

        let site = TestSite::builder()
            .page("/", &page("Home", ""))
            .route(
                "/robots.txt",
                Route::new(200, "text/plain", "User-agent: *\nDisallow: /\n"),
            )
            .start()
            .await;
        let err = run(site.url("/"), config())
            .await
            .result
            .unwrap()
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the site's robots.txt does not allow otoqbot to read")
        );
    }

    #[tokio::test]
    async fn sitemap_index_is_followed_when_robots_names_none() {
        let site = TestSite::builder()
            .page("/", &page("Home", ""))
            .route(
                "/sitemap.xml",
                Route::new(
                    200,
                    "application/xml",
                    "<sitemapindex><sitemap><loc>{origin}/sm/pages.xml</loc></sitemap></sitemapindex>",
                ),
            )
            .route(
                "/sm/pages.xml",
                Route::new(
                    200,
                    "text/xml",
                    "<urlset><url><loc>{origin}/only-in-sitemap</loc></url><url><loc>https://elsewhere.invalid/x</loc></url></urlset>",
                ),
            )
            .page("/only-in-sitemap", &page("Listed", ""))
            .start()
            .await;
        let report = run(site.url("/"), config()).await;
        assert_eq!(report.page_paths(), ["/", "/only-in-sitemap"]);
        assert_eq!(report.pages["/only-in-sitemap"].depth, 1);
    }

    #[tokio::test]
    async fn oversized_pages_fail_and_the_total_budget_stops_the_crawl() {
        let big = format!("<p>{}</p>", "x".repeat(4000));
        let site = TestSite::builder()
            .page(
                "/",
                &page("Home", r#"<a href="/big">b</a> <a href="/streamed">s</a>"#),
            )
            .page("/big", &big)
            .route("/streamed", Route::html(&big).without_length())
            .start()
            .await;
        let cfg = CrawlConfig {
            max_page_bytes: 2048,
            ..config()
        };
        let report = run(site.url("/"), cfg).await;
        assert_eq!(report.failed["/big"], "page too large (more than 2 KiB)");
        assert_eq!(
            report.failed["/streamed"],
            "page too large (more than 2 KiB)"
        );

        let cfg = CrawlConfig {
            max_total_bytes: 1000,
            concurrency: 1,
            ..config()
        };
        let report = run(site.url("/"), cfg).await;
        let summary = report.summary();
        assert_eq!(summary.pages, 1, "{report:?}");
        assert_eq!(
            report.failed.values().next().map(String::as_str),
            Some("the crawl reached its total download limit")
        );
        assert_eq!(
            report.failed.len(),
            1,
            "the crawl went on after its budget: {report:?}"
        );
    }

    #[tokio::test]
    async fn charset_and_x_robots_tag_headers() {
        let site = TestSite::builder()
            .page(
                "/",
                &page("Home", r#"<a href="/latin">l</a> <a href="/tagged">t</a>"#),
            )
            .route(
                "/latin",
                Route::new(
                    200,
                    "text/html; charset=iso-8859-1",
                    b"<h1>Caf\xE9</h1><p>\x93Hi\x94</p>".to_vec(),
                ),
            )
            .route(
                "/tagged",
                Route::html(&page("Tagged", "")).with_header("x-robots-tag", "otoqbot: noindex"),
            )
            .start()
            .await;
        let report = run(site.url("/"), config()).await;
        assert_eq!(report.pages["/latin"].doc.title, "Café");
        assert_eq!(report.pages["/latin"].doc.sections[0].text, "“Hi”");
        assert_eq!(
            report.skipped["/tagged"],
            "the page asks not to be indexed (noindex)"
        );
    }

    #[tokio::test]
    async fn dropping_the_receiver_stops_the_crawl() {
        let links: String = (0..50)
            .map(|i| format!(r#"<a href="/p{i}">{i}</a> "#))
            .collect();
        let mut builder = TestSite::builder().page("/", &page("Home", &links));
        for i in 0..50 {
            builder = builder.page(&format!("/p{i}"), &page(&format!("P{i}"), ""));
        }
        let site = builder.start().await;
        let (tx, mut rx) = mpsc::channel(1);
        let handle = tokio::spawn(crawl(site.url("/"), config(), tx));
        while let Some(event) = rx.recv().await {
            if matches!(event, CrawlEvent::Page(_)) {
                break;
            }
        }
        drop(rx);
        assert_eq!(handle.await.unwrap(), Err(CrawlError::Cancelled));
        assert!(site.requests().len() < 40, "{}", site.requests().len());
    }
}

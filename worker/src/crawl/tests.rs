//! Tests of `crawl`.

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

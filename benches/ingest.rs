//! Ingestion benchmark: crawl + extract a generated 1,000-page site served on loopback,
//! chunk every page, and embed a sample of the chunks with the offline model.
//!
//! Run: `cargo bench --bench ingest` (fetches the model once into target/test-models if missing).
//! Env: BENCH_PAGES (1000), BENCH_EMBED_CHUNKS (300), BENCH_CRAWL_CONCURRENCY (8), BENCH_EMBEDDER
//! (minilm or e5: the embedder of the last step, passages with their sentences as ingestion embeds them).

use std::sync::Arc;
use std::time::{Duration, Instant};

use otoq_core::embed::{Embedder, MiniLm};
use otoq_core::knowledge::chunking::{ChunkConfig, chunk_sections, count_tokens};
use otoq_core::net_guard::Guard;
use otoq_worker::crawl::{CrawlConfig, CrawlEvent, crawl};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};

const WORDS: &[&str] = &[
    "install",
    "configure",
    "widget",
    "server",
    "client",
    "request",
    "response",
    "cache",
    "token",
    "agent",
    "policy",
    "refund",
    "shipping",
    "account",
    "password",
    "invoice",
    "upgrade",
    "plan",
    "limit",
    "error",
];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A deterministic documentation-like page: headings, paragraphs, links to neighbours.
fn page(i: usize, pages: usize) -> String {
    let mut body = format!(
        "<html><head><title>Topic {i}</title></head><body><nav><a href=\"/\">Home</a></nav><main><h1>Topic {i}</h1>"
    );
    for s in 0..4 {
        body.push_str(&format!("<h2>Section {s} of topic {i}</h2>"));
        for p in 0..3 {
            let words: Vec<&str> = (0..45)
                .map(|w| WORDS[(i * 31 + s * 7 + p * 3 + w * 13) % WORDS.len()])
                .collect();
            body.push_str(&format!("<p>Paragraph {p}: {}.</p>", words.join(" ")));
        }
    }
    for n in [i + 1, i * 2 + 1, i * 3 + 7] {
        if n < pages {
            body.push_str(&format!("<a href=\"/topic/{n}\">Topic {n}</a> "));
        }
    }
    body.push_str("</main><footer>Generated</footer></body></html>");
    body
}

struct GeneratedSite {
    pages: usize,
}

impl Endpoint for GeneratedSite {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        let html = |b: String| {
            Response::builder()
                .content_type("text/html; charset=utf-8")
                .body(b)
        };
        if path == "/" {
            let links: String = (0..self.pages.min(50))
                .map(|n| format!("<a href=\"/topic/{n}\">{n}</a> "))
                .collect();
            return Ok(html(format!(
                "<html><head><title>Home</title></head><body><main><h1>Docs</h1><p>{links}</p></main></body></html>"
            )));
        }
        if path == "/sitemap.xml" {
            let urls: String = (0..self.pages)
                .map(|n| {
                    format!(
                        "<url><loc>http://{}/topic/{n}</loc></url>",
                        req.uri()
                            .authority()
                            .map(|a| a.as_str())
                            .unwrap_or("127.0.0.1")
                    )
                })
                .collect();
            return Ok(Response::builder()
                .content_type("application/xml")
                .body(format!("<urlset>{urls}</urlset>")));
        }
        match path
            .strip_prefix("/topic/")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < self.pages => Ok(html(page(n, self.pages))),
            _ => Ok(Response::builder()
                .status(poem::http::StatusCode::NOT_FOUND)
                .body("")),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pages = env_num("BENCH_PAGES", 1000);
    let embed_n = env_num("BENCH_EMBED_CHUNKS", 300);
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = *acceptor.local_addr()[0]
        .as_socket_addr()
        .expect("tcp address");
    tokio::spawn(async move {
        poem::Server::new_with_acceptor(acceptor)
            .run(GeneratedSite { pages })
            .await
    });

    // 1. Crawl + extract.
    let cfg = CrawlConfig {
        max_pages: pages + 1,
        max_depth: 50,
        concurrency: env_num("BENCH_CRAWL_CONCURRENCY", 8),
        guard: Guard {
            allow_private: true,
        },
        page_timeout: Duration::from_secs(30),
        ..CrawlConfig::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let started = Instant::now();
    let crawler = tokio::spawn(crawl(format!("http://{addr}/").parse()?, cfg, tx));
    let mut docs = Vec::new();
    while let Some(ev) = rx.recv().await {
        if let CrawlEvent::Page(p) = ev {
            docs.push(p.doc);
        }
    }
    let summary = crawler.await??;
    let crawl_secs = started.elapsed().as_secs_f64();

    // 2. Chunk.
    let started = Instant::now();
    let cfg = ChunkConfig::default();
    let chunks: Vec<_> = docs
        .iter()
        .flat_map(|d| chunk_sections(&d.sections, &cfg))
        .collect();
    let chunk_secs = started.elapsed().as_secs_f64();
    let chunk_tokens: usize = chunks.iter().map(|c| c.tokens).sum();

    // 3. Embed a sample with the offline model.
    let dir = std::path::PathBuf::from(format!(
        "{}/target/test-models/all-MiniLM-L6-v2",
        env!("CARGO_MANIFEST_DIR")
    ));
    if !dir.join("model.safetensors").exists() {
        otoq_core::embed::fetch_minilm(&dir).await?;
    }
    let model = Arc::new(MiniLm::load(&dir, 32).await?);
    let sample: Vec<String> = chunks
        .iter()
        .take(embed_n)
        .map(|c| c.text.clone())
        .collect();
    let model_tokens = model.count_tokens(&sample)?;
    let started = Instant::now();
    let vectors = model.embed(&sample).await?;
    let embed_secs = started.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), sample.len());

    println!("\n== ingestion benchmark (2 cores)");
    println!(
        "crawl + extract : {} pages ({} failed) in {crawl_secs:.2}s = {:.0} pages/s  (goal >= 50)",
        summary.pages,
        summary.failed,
        summary.pages as f64 / crawl_secs
    );
    println!(
        "chunking        : {} chunks ({chunk_tokens} tokens) in {chunk_secs:.3}s = {:.0} chunks/s",
        chunks.len(),
        chunks.len() as f64 / chunk_secs
    );
    println!(
        "embedding       : {} chunks, {model_tokens} model tokens in {embed_secs:.2}s = {:.0} tokens/s  (goal >= 2000)",
        sample.len(),
        model_tokens as f64 / embed_secs
    );
    println!(
        "(tiktoken tokens in the sample: {})",
        sample.iter().map(|s| count_tokens(s)).sum::<usize>()
    );

    // 4. The sample as ingestion embeds it (each passage, then its sentences), with BENCH_EMBEDDER.
    let embedder: Arc<dyn Embedder> = match std::env::var("BENCH_EMBEDDER").as_deref() {
        Ok("e5") => {
            let dir = std::path::PathBuf::from(format!(
                "{}/target/test-models/multilingual-e5-small-q4",
                env!("CARGO_MANIFEST_DIR")
            ));
            if !dir.join("e5-small-q4.bin").exists() {
                otoq_core::embed::fetch_e5(&dir).await?;
            }
            Arc::new(otoq_core::embed::E5::load(&dir, 32).await?)
        }
        _ => model.clone(),
    };
    let mut inputs: Vec<String> = chunks
        .iter()
        .take(embed_n)
        .map(|c| otoq_core::embed::passage_input("Topic", &c.heading_path, &c.text))
        .collect();
    let passages = inputs.len();
    for c in chunks.iter().take(embed_n) {
        inputs.extend(otoq_core::retrieval::sentences::embeddable(&c.text));
    }
    let started = Instant::now();
    let vectors = embedder.embed(&inputs).await?;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), inputs.len());
    println!(
        "ingest embedding: {} — {passages} passages + {} sentences in {secs:.2}s = {:.1} passages/s",
        embedder.id(),
        inputs.len() - passages,
        passages as f64 / secs
    );
    Ok(())
}

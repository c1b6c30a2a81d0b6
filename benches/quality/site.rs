//! Serves a dev set's pages from disk on loopback, as a small website would.

use std::path::PathBuf;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};

/// The toolchain books the docs set is made of (as in benches/chat.rs).
const BOOKS: [&str; 4] = ["rust-by-example", "reference", "edition-guide", "rustc"];

/// The host name the committed sitemap and robots.txt use; replaced by the real address.
const PLACEHOLDER: &str = "http://shop.example";

struct Site {
    root: PathBuf,
    docs: bool,
    base: String,
}

fn not_found() -> Response {
    Response::builder()
        .status(poem::http::StatusCode::NOT_FOUND)
        .finish()
}

impl Site {
    /// Whether the docs set hides `path` (print-all pages, tables of contents, translations, other books).
    fn hidden(&self, path: &str) -> bool {
        if !self.docs {
            return false;
        }
        let book = path.split('/').next().unwrap_or_default();
        let rest = path[book.len()..].trim_start_matches('/');
        !BOOKS.contains(&book)
            || ["es/", "ja/", "ko/", "zh/"]
                .iter()
                .any(|t| rest.starts_with(t))
            || rest == "print.html"
            || rest == "toc.html"
    }
}

impl Endpoint for Site {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().trim_start_matches('/').to_string();
        if self.docs && path.is_empty() {
            let links: String = BOOKS
                .iter()
                .map(|b| format!("<li><a href=\"/{b}/index.html\">{b}</a></li>"))
                .collect();
            return Ok(Response::builder().content_type("text/html").body(format!(
                "<html><body><h1>Docs</h1><ul>{links}</ul></body></html>"
            )));
        }
        if path.contains("..") || self.hidden(&path) {
            return Ok(not_found());
        }
        let file = self.root.join(&path);
        let file = if file.is_dir() {
            file.join("index.html")
        } else {
            file
        };
        let Ok(bytes) = tokio::fs::read(&file).await else {
            return Ok(not_found());
        };
        let ext = file
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let ct = match ext {
            "html" => "text/html; charset=utf-8",
            "css" => "text/css",
            "js" => "application/javascript",
            "xml" => "application/xml",
            "txt" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        };
        if ext == "xml" || ext == "txt" {
            let text = String::from_utf8_lossy(&bytes).replace(PLACEHOLDER, &self.base);
            return Ok(Response::builder().content_type(ct).body(text));
        }
        Ok(Response::builder().content_type(ct).body(bytes))
    }
}

/// Starts serving `root` on a loopback port and returns its base URL (no trailing slash).
pub async fn serve(root: PathBuf, docs: bool) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = listener.local_addr()[0]
        .as_socket_addr()
        .cloned()
        .context("site address")?;
    let base = format!("http://{addr}");
    let site = Site {
        root,
        docs,
        base: base.clone(),
    };
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(listener).run(site).await;
    });
    Ok(base)
}

/// The toolchain's html docs: BENCH_DOCS, or `share/doc/rust/html` of the active sysroot.
pub fn docs_root() -> PathBuf {
    if let Ok(d) = std::env::var("BENCH_DOCS") {
        return PathBuf::from(d);
    }
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    PathBuf::from(sysroot).join("share/doc/rust/html")
}

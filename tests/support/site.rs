//! A local website served by the test itself: pages can be changed while it runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};

/// One response of the site.
#[derive(Clone)]
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub delay: Duration,
    /// Sent instead of `body`, with this `Content-Encoding` (a compressed page).
    pub encoded: Option<(String, Vec<u8>)>,
}

impl Page {
    /// A 200 HTML page.
    pub fn html(body: impl Into<String>) -> Self {
        Page {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            body: body.into(),
            delay: Duration::ZERO,
            encoded: None,
        }
    }

    /// A 200 response of another type.
    pub fn typed(content_type: &str, body: impl Into<String>) -> Self {
        Page {
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
            delay: Duration::ZERO,
            encoded: None,
        }
    }

    /// An HTML page sent as `bytes` with `Content-Encoding: encoding`.
    pub fn compressed(encoding: &str, bytes: Vec<u8>) -> Self {
        Page {
            encoded: Some((encoding.into(), bytes)),
            ..Page::html("")
        }
    }

    /// The same page, answered after `delay`.
    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Pages = Arc<Mutex<HashMap<String, Page>>>;

/// A running site; stops when dropped.
pub struct Site {
    pub base: String,
    pages: Pages,
    hits: Arc<Mutex<Vec<String>>>,
    _server: tokio::task::JoinHandle<()>,
}

struct Serve {
    pages: Pages,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Endpoint for Serve {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_string();
        self.hits.lock().unwrap().push(path.clone());
        let page = self.pages.lock().unwrap().get(&path).cloned();
        let Some(page) = page else {
            return Ok(Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body("not found"));
        };
        if !page.delay.is_zero() {
            tokio::time::sleep(page.delay).await;
        }
        let builder = Response::builder()
            .status(StatusCode::from_u16(page.status).unwrap())
            .content_type(page.content_type);
        Ok(match page.encoded {
            Some((encoding, bytes)) => builder.header("content-encoding", encoding).body(bytes),
            None => builder.body(page.body),
        })
    }
}

impl Site {
    /// Serves `pages` (path → page) on a free loopback port.
    pub async fn start(pages: Vec<(&str, Page)>) -> Site {
        let map: HashMap<String, Page> = pages
            .into_iter()
            .map(|(p, page)| (p.to_string(), page))
            .collect();
        let pages = Arc::new(Mutex::new(map));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let ep = Serve {
            pages: pages.clone(),
            hits: hits.clone(),
        };
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(ep).await;
        });
        Site {
            base: format!("http://{addr}"),
            pages,
            hits,
            _server: server,
        }
    }

    /// Replaces (or adds) the page at `path`.
    pub fn set(&self, path: &str, page: Page) {
        self.pages.lock().unwrap().insert(path.to_string(), page);
    }

    /// Removes the page at `path` (it answers 404 from now on).
    pub fn remove(&self, path: &str) {
        self.pages.lock().unwrap().remove(path);
    }

    /// Paths requested so far.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self._server.abort();
    }
}

/// An HTML page with a title, a heading, a paragraph and links.
pub fn article(title: &str, text: &str, links: &[&str]) -> Page {
    let links: String = links
        .iter()
        .map(|l| format!("<li><a href=\"{l}\">{l}</a></li>"))
        .collect();
    Page::html(format!(
        "<!doctype html><html><head><title>{title}</title></head><body>\
         <nav><ul>{links}</ul></nav><main><h1>{title}</h1><p>{text}</p></main>\
         <footer>Copyright Example Corp</footer></body></html>"
    ))
}

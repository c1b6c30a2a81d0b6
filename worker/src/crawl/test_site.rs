//! A tiny HTTP/1.1 test server: fixed routes on 127.0.0.1, served until dropped.
//!
//! ```ignore
//! let site = TestSite::builder()
//!     .page("/", r#"<a href="/a">a</a>"#)
//!     .route("/slow", Route::html("<p>late</p>").with_delay(Duration::from_secs(5)))
//!     .route("/old", Route::redirect(301, "{origin}/a"))
//!     .start()
//!     .await;
//! crawl(site.url("/"), cfg, tx).await;
//! assert_eq!(site.hits("/a"), 1);
//! ```
//! `{origin}` in a body or header value becomes `http://127.0.0.1:<port>`, and `{port}` the port
//! (for `http://localhost:{port}/`, another site on the same server). Unknown paths get a
//! 404 HTML page. Each connection serves one request (`connection: close`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

/// Fills in `{origin}` and `{port}`.
type Expand = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// One canned response.
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP status code.
    pub status: u16,
    /// Content-Type header; empty for none.
    pub content_type: String,
    /// Response body.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Send Content-Length (otherwise the body ends when the connection closes).
    pub content_length: bool,
}

impl Route {
    /// A response with this status, Content-Type and body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status,
            content_type: content_type.to_string(),
            body: body.into(),
            delay: None,
            headers: Vec::new(),
            content_length: true,
        }
    }

    /// A 200 UTF-8 HTML page.
    pub fn html(body: &str) -> Route {
        Route::new(200, "text/html; charset=utf-8", body)
    }

    /// A redirect (301, 302, 307…) to `location`.
    pub fn redirect(status: u16, location: &str) -> Route {
        Route::new(status, "", "").with_header("location", location)
    }

    /// Answers only after `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Route {
        self.delay = Some(delay);
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Omits Content-Length: the body is delimited by closing the connection.
    pub fn without_length(mut self) -> Route {
        self.content_length = false;
        self
    }
}

/// Collects the routes of a [`TestSite`].
#[derive(Default)]
pub struct TestSiteBuilder {
    routes: HashMap<String, Route>,
}

impl TestSiteBuilder {
    /// Serves `route` at `path` (a path, optionally with `?query`, matched exactly first).
    pub fn route(mut self, path: &str, route: Route) -> Self {
        self.routes.insert(path.to_string(), route);
        self
    }

    /// Serves a 200 HTML page at `path`.
    pub fn page(self, path: &str, html: &str) -> Self {
        self.route(path, Route::html(html))
    }

    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start(self) -> TestSite {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let origin = format!("http://{addr}");
        let port = addr.port().to_string();
        let routes = Arc::new(self.routes);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let server = {
            let requests = requests.clone();
            let origin = origin.clone();
            let expand =
                move |text: &str| text.replace("{origin}", &origin).replace("{port}", &port);
            let expand = Arc::new(expand) as Expand;
            tokio::spawn(async move {
                // Owned here so that aborting the server also aborts open connections.
                let mut connections = JoinSet::new();
                while let Ok((socket, _)) = listener.accept().await {
                    while connections.try_join_next().is_some() {}
                    connections.spawn(serve(
                        socket,
                        routes.clone(),
                        requests.clone(),
                        expand.clone(),
                    ));
                }
            })
        };
        TestSite {
            base: Url::parse(&origin).expect("origin URL"),
            requests,
            server,
        }
    }
}

/// A running test server; stops when dropped.
pub struct TestSite {
    base: Url,
    requests: Arc<Mutex<Vec<String>>>,
    server: JoinHandle<()>,
}

impl TestSite {
    /// Starts describing a site.
    pub fn builder() -> TestSiteBuilder {
        TestSiteBuilder::default()
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("valid path")
    }

    /// Every request target served so far (path and query), in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// How many times `path` (path and query) was requested.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|p| *p == path).count()
    }
}

impl Drop for TestSite {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    mut socket: TcpStream,
    routes: Arc<HashMap<String, Route>>,
    requests: Arc<Mutex<Vec<String>>>,
    expand: Expand,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 << 10 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    requests.lock().expect("requests lock").push(target.clone());
    let path = target.split('?').next().unwrap_or("/");
    let route = routes
        .get(&target)
        .or_else(|| routes.get(path))
        .cloned()
        .unwrap_or_else(|| Route::new(404, "text/html", "<h1>Not found</h1>"));
    if let Some(delay) = route.delay {
        tokio::time::sleep(delay).await;
    }
    let body = String::from_utf8(route.body.clone())
        .map(|s| expand(&s).into_bytes())
        .unwrap_or(route.body);
    let mut response = format!("HTTP/1.1 {} {}\r\n", route.status, reason(route.status));
    if !route.content_type.is_empty() {
        response.push_str(&format!("content-type: {}\r\n", route.content_type));
    }
    if route.content_length {
        response.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    for (name, value) in &route.headers {
        response.push_str(&format!("{name}: {}\r\n", expand(value)));
    }
    response.push_str("connection: close\r\n\r\n");
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(&body);
    let _ = socket.write_all(&bytes).await;
    let _ = socket.shutdown().await;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

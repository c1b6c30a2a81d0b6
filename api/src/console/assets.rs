//! The console's static files, compiled into the binary: the stylesheet, a few lines of script
//! and htmx 2.0.11 (`npm pack htmx.org@2.0.11`, `dist/htmx.min.js` unmodified: SHA-256
//! d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717), with an ETag and a year of
//! caching.

use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::{Request, Response, handler, web::Path};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
}

fn asset(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    let etag = format!(
        "\"{}\"",
        digest[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Asset {
        name,
        content_type,
        body,
        etag,
    }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        asset(
            "console.css",
            "text/css; charset=utf-8",
            include_bytes!("assets/console.css"),
        ),
        asset(
            "console.js",
            "text/javascript; charset=utf-8",
            include_bytes!("assets/console.js"),
        ),
        asset(
            "htmx.min.js",
            "text/javascript; charset=utf-8",
            include_bytes!("assets/htmx.min.js"),
        ),
    ]
});

/// The URL of asset `name`, versioned by its ETag so that a new build is fetched at once.
pub fn url(name: &str) -> String {
    let v = ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.etag.trim_matches('"').to_string())
        .unwrap_or_default();
    format!("/assets/{name}?v={v}")
}

/// `GET /assets/:name`.
#[handler]
pub fn serve(req: &Request, Path(name): Path<String>) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == name) else {
        return super::not_found();
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag));
    let builder = Response::builder()
        .header(header::ETAG, a.etag.as_str())
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    if fresh {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder
        .header(header::CONTENT_TYPE, a.content_type)
        .body(a.body)
}

//! `GET /widget.js`: the hand-written widget script, compiled into the binary, served with an
//! ETag (304 on a match), a short cache lifetime and gzip when the browser accepts it; and the
//! page of the iframe variant.

use std::io::Write;
use std::sync::LazyLock;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Request, Response};
use sha2::{Digest, Sha256};

use otoq_entities::agents;

/// The widget's source, as committed.
pub const SOURCE: &str = include_str!("../../widget/widget.js");

struct Asset {
    etag: String,
    gzip: Vec<u8>,
}

static ASSET: LazyLock<Asset> = LazyLock::new(|| {
    let digest = Sha256::digest(SOURCE.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(SOURCE.as_bytes()).expect("gzip in memory");
    Asset {
        etag: format!("\"w-{hex}\""),
        gzip: enc.finish().expect("gzip in memory"),
    }
});

/// The gzipped size of the widget script in bytes.
pub fn gzipped_len() -> usize {
    ASSET.gzip.len()
}

fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// Serves `widget.js`.
#[poem::handler]
pub fn widget_js(req: &Request) -> Response {
    let asset = &*ASSET;
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == asset.etag || t.trim() == "*")
        });
    let builder = Response::builder()
        .header(header::ETAG, asset.etag.as_str())
        .header(
            header::CACHE_CONTROL,
            "public, max-age=300, stale-while-revalidate=86400",
        )
        .header(header::VARY, "Accept-Encoding")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    if matches {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    let builder = builder.header(
        header::CONTENT_TYPE,
        "application/javascript; charset=utf-8",
    );
    if accepts_gzip(req) {
        builder
            .header(header::CONTENT_ENCODING, "gzip")
            .body(asset.gzip.clone())
    } else {
        builder.body(SOURCE)
    }
}

/// The agent's config as an inline JSON element, for a page of the deployment's own origin that
/// shows the widget (the iframe page, the console's preview): `<` escaped so no text of the
/// agent's can close the script element.
pub fn inline_config(agent: &agents::Model) -> String {
    format!(
        "<script type=\"application/json\" id=\"otoq-config\">{}</script>",
        super::handlers::config_value(agent)
            .to_string()
            .replace('<', "\\u003c")
    )
}

/// The console's live preview: the real widget with its config inline (a same-origin GET of
/// `/config` carries no `Origin`, which an agent with allowed origins requires).
pub fn preview(agent: &agents::Model) -> String {
    format!(
        "{}<script src=\"/widget.js\" data-agent=\"{}\" data-config=\"inline\" async></script>",
        inline_config(agent),
        agent.public_id
    )
}

/// The page the iframe variant loads: the widget opened inside the frame. Only the agent's
/// allowed origins may frame it (`frame-ancestors`).
pub fn frame(agent: &agents::Model) -> Response {
    let list: Vec<String> =
        serde_json::from_value(agent.allowed_origins.clone()).unwrap_or_default();
    let ancestors = if list.is_empty() {
        "*".to_string()
    } else {
        list.join(" ")
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Chat</title><style>html,body{{margin:0;background:transparent}}</style></head><body>\
         {}<script src=\"/widget.js\" data-agent=\"{}\" data-frame=\"true\"></script></body></html>",
        inline_config(agent),
        agent.public_id
    );
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(html);
    if let Ok(v) = HeaderValue::from_str(&format!("frame-ancestors {ancestors}")) {
        resp.headers_mut().insert("content-security-policy", v);
    }
    resp
}

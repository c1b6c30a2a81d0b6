//! otoq-api: the HTTP API — routes, the gate (auth, plans, rate limits), errors and docs.

pub mod docs;
pub mod envelope;
pub mod error;
mod gate;
mod middleware;
pub mod routes;
mod security;

use otoq_core::Context;
use poem::http::header;
use poem::web::WithHeader;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get};

/// The whole HTTP application for `ctx`, documenting itself at `public_url`.
pub fn app(ctx: Context) -> impl Endpoint {
    let public_url = ctx.config.public_url.clone();
    let service = docs::service(&public_url);
    let spec = service.spec();
    let spec_value: serde_json::Value =
        serde_json::from_str(&spec).expect("poem-openapi emits JSON");
    let markdown = docs::to_markdown(&spec_value);
    let routes = middleware::RouteTable::from_spec(&spec_value, "/api/v1");
    let swagger = service.swagger_ui();

    let v1 = Route::new()
        .at("/openapi.json", get(text(spec, "application/json")))
        .at(
            "/docs.md",
            get(text(markdown, "text/markdown; charset=utf-8")),
        )
        .nest("/", service);
    let v1 = gate::Gate {
        inner: v1,
        ctx: ctx.clone(),
    };

    let app = Route::new()
        .at("/health", get(routes::health::health))
        .at("/ready", get(routes::health::ready))
        .nest("/docs", swagger)
        .nest("/api/v1", v1)
        .data(ctx);
    middleware::Outer { inner: app, routes }
}

/// A handler answering a fixed body with a content type.
fn text(body: String, content_type: &'static str) -> impl Endpoint {
    let body = std::sync::Arc::new(body);
    poem::endpoint::make_sync(move |_| -> WithHeader<String> {
        body.as_str()
            .to_string()
            .with_header(header::CONTENT_TYPE, content_type)
    })
}

//! otoq-api: the HTTP API — routes, the gate (auth, plans, rate limits), errors and docs.

mod console;
mod contract;
pub mod docs;
pub mod envelope;
pub mod error;
mod gate;
mod middleware;
pub mod routes;
mod security;
pub mod text;
pub mod timestamp;
pub mod widget;

use otoq_core::Context;
use poem::http::header;
use poem::{Endpoint, EndpointExt, Route, get};

/// The whole HTTP application for `ctx`, documenting itself at `ctx.config.public_url`.
pub fn app(ctx: Context) -> impl Endpoint {
    let service = docs::service(&ctx.config.public_url);
    let spec_value = docs::spec_value(&ctx.config.public_url);
    let spec = spec_value.to_string();
    let markdown = docs::to_markdown(&spec_value);
    let contract = contract::Contract::from_spec(&spec_value, "/api/v1");
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
        contract: contract.clone(),
    };

    let app = Route::new()
        .at("/health", get(routes::health::health))
        .at("/ready", get(routes::health::ready))
        .at("/shopify/install", get(routes::shopify::install))
        .at("/shopify/callback", get(routes::shopify::callback))
        .at("/shopify/webhooks", poem::post(routes::shopify::receive))
        .nest("/docs", swagger)
        .nest("/api/v1", v1)
        .at("/widget.js", get(widget::script::widget_js))
        .nest("/widget/v1", widget::PublicRoutes { ctx: ctx.clone() });
    let app = console::mount(app).data(ctx);
    middleware::Outer {
        inner: app,
        contract,
    }
}

/// A handler answering a fixed body with a content type.
fn text(body: String, content_type: &'static str) -> impl Endpoint {
    let body = bytes::Bytes::from(body);
    poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(body.clone())
    })
}

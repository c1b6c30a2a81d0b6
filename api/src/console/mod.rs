//! The owner's console: server-rendered HTML pages (maud templates, checked at compile time)
//! at `/`, with htmx for the few live parts. Every page calls the same core services as the
//! REST API, scoped to the signed-in member's account.

mod agents;
mod assets;
mod auth;
mod inbox;
mod keys;
mod knowledge;
mod layout;

use maud::Markup;
use poem::http::{StatusCode, header};
use poem::{Request, Response, Route, get};
use uuid::Uuid;

/// Adds the console's routes to the application's.
pub fn mount(route: Route) -> Route {
    route
        .at("/", get(auth::home))
        .at("/signup", get(auth::signup_page).post(auth::signup))
        .at("/signin", get(auth::signin_page).post(auth::signin))
        .at("/signout", poem::post(auth::signout))
        .at("/assets/:name", get(assets::serve))
        .at("/agents", get(agents::list).post(agents::create))
        .at("/agents/:id", get(agents::edit).post(agents::update))
        .at(
            "/agents/:id/delete",
            get(agents::confirm_delete).post(agents::delete),
        )
        .at("/agents/:id/install", get(agents::install))
        .at("/agents/:id/knowledge", get(knowledge::page))
        .at(
            "/agents/:id/knowledge/sources",
            get(knowledge::sources_table),
        )
        .at("/agents/:id/knowledge/:kind", poem::post(knowledge::add))
        .at("/sources/:id/resync", poem::post(knowledge::resync))
        .at("/sources/:id/delete", poem::post(knowledge::delete))
        .at("/conversations", get(inbox::conversations))
        .at("/conversations/:id", get(inbox::conversation))
        .at("/leads", get(inbox::leads))
        .at("/leads.csv", get(inbox::leads_csv))
        .at("/settings/keys", get(keys::page).post(keys::create))
        .at("/settings/keys/:id/revoke", poem::post(keys::revoke))
}

/// A console reply cut short: a redirect, a refusal or an error page.
pub(crate) struct Fail(Box<Response>);

impl Fail {
    pub(crate) fn new(r: Response) -> Fail {
        Fail(Box::new(r))
    }
}

impl From<otoq_core::Error> for Fail {
    fn from(e: otoq_core::Error) -> Self {
        use otoq_core::Error as E;
        Fail::new(match e {
            E::NotFound(_) => not_found(),
            E::Validation { message, .. } => message_page(StatusCode::BAD_REQUEST, &message),
            E::Conflict(m) | E::PlanLimit(m) => message_page(StatusCode::CONFLICT, &m),
            E::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "console request failed");
                message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Please try again.",
                )
            }
        })
    }
}

/// What a page handler returns.
pub(crate) type Out = Result<Response, Fail>;

/// The response of `out`, whichever way it went.
pub(crate) fn finish(out: Out) -> Response {
    out.unwrap_or_else(|Fail(r)| *r)
}

/// An HTML response.
pub(crate) fn html(status: StatusCode, body: Markup) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "same-origin")
        .body(body.into_string())
}

/// A page of `markup` with 200.
pub(crate) fn ok(body: Markup) -> Out {
    Ok(html(StatusCode::OK, body))
}

/// 303 to `to` (after a form, or to sign in).
pub(crate) fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

/// Back to `to` with `error` shown at the top of the page.
pub(crate) fn back_with_error(to: &str, error: &str) -> Response {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", error)
        .finish();
    let sep = if to.contains('?') { '&' } else { '?' };
    redirect(&format!("{to}{sep}{q}"))
}

/// Redirects back to `to` with the message of a bad-input error, else fails as usual.
pub(crate) fn or_back<T>(to: &str, r: otoq_core::Result<T>) -> Result<T, Fail> {
    match r {
        Ok(v) => Ok(v),
        Err(otoq_core::Error::Validation { message, .. })
        | Err(otoq_core::Error::Conflict(message))
        | Err(otoq_core::Error::PlanLimit(message)) => {
            Err(Fail::new(back_with_error(to, &message)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The 404 page (also for another account's ids: never say which).
pub(crate) fn not_found() -> Response {
    message_page(StatusCode::NOT_FOUND, "This page does not exist.")
}

/// A bare page saying `message`.
pub(crate) fn message_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    html(
        status,
        layout::bare(
            title,
            maud::html! {
                div.card.narrow role="alert" {
                    h1 { (title) }
                    p { (message) }
                    p { a href="/" { "Back to the console" } }
                }
            },
        ),
    )
}

/// An id in the path; anything else is a 404.
pub(crate) fn id(raw: &str) -> Result<Uuid, Fail> {
    raw.parse().map_err(|_| Fail::new(not_found()))
}

/// A form body, fields in order (a field may repeat).
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(raw: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(raw).into_owned().collect())
    }

    /// The first value of `name`, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// "1 lead", "3 leads".
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The query string of `req` as a form.
pub(crate) fn query(req: &Request) -> Form {
    Form::parse(req.uri().query().unwrap_or("").as_bytes())
}

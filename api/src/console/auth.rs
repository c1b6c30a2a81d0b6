//! Signing up, in and out of the console: the session cookie (HttpOnly, SameSite=Lax, Secure
//! behind https), the CSRF checks of every POST, and who the signed-in member is.

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Body, Request, Response, handler};

use otoq_core::Context;
use otoq_core::people::{self, MemberRole, SignIn, SignupPolicy, sessions};

use super::{Fail, Form, Out, finish, html as page_html, layout, message_page, redirect};

const SESSION: &str = "otoq_session";
/// The anonymous forms' token (double-submit: a cookie and the same value in the form).
const PRE: &str = "otoq_pre";
const MAX_FORM: usize = 64 * 1024;

/// The signed-in member of a request.
pub(crate) struct Me {
    pub signed: sessions::Signed,
}

impl Me {
    pub(crate) fn role(&self) -> MemberRole {
        self.signed.member.role
    }

    pub(crate) fn account(&self) -> uuid::Uuid {
        self.signed.member.account_id
    }

    /// Refuses (403) unless `allowed`.
    pub(crate) fn require(&self, allowed: bool) -> Result<(), Fail> {
        if allowed {
            Ok(())
        } else {
            Err(Fail::new(message_page(
                StatusCode::FORBIDDEN,
                "Your role in this account does not include this page.",
            )))
        }
    }
}

fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(ctx: &Context, name: &str, value: &str, max_age: u64) -> String {
    let secure = if ctx.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

fn client(req: &Request) -> String {
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The signed-in member, or a redirect to the sign-in page.
pub(crate) async fn me(req: &Request, ctx: &Context) -> Result<Me, Fail> {
    let token = cookie(req, SESSION).unwrap_or("");
    match sessions::find(&ctx.db, token).await? {
        Some(signed) => Ok(Me { signed }),
        None => Err(Fail::new(redirect("/signin"))),
    }
}

async fn read_form(body: Body) -> Result<Form, Fail> {
    let raw = body.into_bytes_limit(MAX_FORM).await.map_err(|_| {
        Fail::new(message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form is too large.",
        ))
    })?;
    Ok(Form::parse(&raw))
}

fn forged() -> Fail {
    Fail::new(message_page(
        StatusCode::FORBIDDEN,
        "This form has expired or did not come from this console. Go back, reload the page and try again.",
    ))
}

/// The token a POST carries: the `_csrf` field or the `X-CSRF-Token` header (htmx).
fn given_token<'a>(req: &'a Request, form: &'a Form) -> &'a str {
    req.headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| form.get("_csrf"))
}

/// A signed-in POST: the member and the form, once its CSRF token matched the session's.
pub(crate) async fn me_post(req: &Request, ctx: &Context, body: Body) -> Result<(Me, Form), Fail> {
    let me = me(req, ctx).await?;
    let form = read_form(body).await?;
    check_csrf(req, &me, &form)?;
    Ok((me, form))
}

/// Checks the CSRF token of a POST whose body is read elsewhere (an upload).
pub(crate) fn check_csrf(req: &Request, me: &Me, form: &Form) -> Result<(), Fail> {
    if sessions::csrf_ok(&me.signed.session, given_token(req, form)) {
        Ok(())
    } else {
        Err(forged())
    }
}

/// `GET /`: the console's start, or the sign-in page.
#[handler]
pub async fn home(req: &Request, ctx: Data<&Context>) -> Response {
    match me(req, &ctx).await {
        Ok(m) if m.role().manages_agents() => redirect("/agents"),
        Ok(_) => redirect("/conversations"),
        Err(Fail(r)) => *r,
    }
}

fn pre_token(req: &Request) -> Option<String> {
    cookie(req, PRE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_string)
}

/// Renders an anonymous form page, setting its double-submit token when missing.
fn anonymous_page(
    req: &Request,
    ctx: &Context,
    status: StatusCode,
    render: impl FnOnce(&str) -> maud::Markup,
) -> Response {
    let (token, fresh) = match pre_token(req) {
        Some(t) => (t, false),
        None => (otoq_core::secrets::random_base62(32), true),
    };
    let mut resp = page_html(status, render(&token));
    if fresh && let Ok(v) = set_cookie(ctx, PRE, &token, 86_400).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn anonymous_post(req: &Request, body: Body) -> Result<Form, Fail> {
    let form = read_form(body).await?;
    match pre_token(req) {
        Some(t) if sessions::csrf_ok_raw(&t, form.get("_csrf")) => Ok(form),
        _ => Err(forged()),
    }
}

fn signup_form(token: &str, error: Option<&str>, f: Option<&Form>) -> maud::Markup {
    let v = |k: &str| f.map(|f| f.get(k).to_string()).unwrap_or_default();
    layout::bare(
        "Create your account",
        html! {
            div.card.narrow {
                h1 { "Create your account" }
                @if let Some(e) = error { div.alert role="alert" { (e) } }
                form method="post" action="/signup" {
                    input type="hidden" name="_csrf" value=(token);
                    label for="business" { "Business name" }
                    input #business type="text" name="business" required autocomplete="organization" value=(v("business"));
                    label for="email" { "Email" }
                    input #email type="email" name="email" required autocomplete="email" value=(v("email"));
                    label for="password" { "Password" }
                    input #password type="password" name="password" required minlength="8" autocomplete="new-password" aria-describedby="pw-hint";
                    p.hint #pw-hint { "At least 8 characters." }
                    div.actions { button type="submit" { "Create account" } }
                }
                p { "Already have an account? " a href="/signin" { "Sign in" } }
            }
        },
    )
}

fn signin_form(token: &str, error: Option<&str>, email: &str, can_sign_up: bool) -> maud::Markup {
    layout::bare(
        "Sign in",
        html! {
            div.card.narrow {
                h1 { "Sign in to otoq" }
                @if let Some(e) = error { div.alert role="alert" { (e) } }
                form method="post" action="/signin" {
                    input type="hidden" name="_csrf" value=(token);
                    label for="email" { "Email" }
                    input #email type="email" name="email" required autocomplete="email" value=(email);
                    label for="password" { "Password" }
                    input #password type="password" name="password" required autocomplete="current-password";
                    div.actions { button type="submit" { "Sign in" } }
                }
                @if can_sign_up { p { "New here? " a href="/signup" { "Create an account" } } }
            }
        },
    )
}

fn signup_closed() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Sign-up is not open on this deployment: ask its operator for an account.",
    )
}

/// `GET /signup`.
#[handler]
pub async fn signup_page(req: &Request, ctx: Data<&Context>) -> Response {
    if ctx.config.people.signup != SignupPolicy::Open {
        return signup_closed();
    }
    anonymous_page(req, &ctx, StatusCode::OK, |t| signup_form(t, None, None))
}

/// `POST /signup`: creates the account and its owner, and signs them in.
#[handler]
pub async fn signup(req: &Request, ctx: Data<&Context>, body: Body) -> Response {
    finish(signup_inner(req, &ctx, body).await)
}

async fn signup_inner(req: &Request, ctx: &Context, body: Body) -> Out {
    if ctx.config.people.signup != SignupPolicy::Open {
        return Err(Fail::new(signup_closed()));
    }
    let form = anonymous_post(req, body).await?;
    let s = people::SignUp {
        email: form.get("email"),
        password: form.get("password"),
        business: form.get("business"),
    };
    match people::sign_up(ctx, &s).await {
        Ok((_, owner)) => start_session(ctx, &owner, "/agents").await,
        Err(otoq_core::Error::Validation { message, .. })
        | Err(otoq_core::Error::Conflict(message)) => {
            Ok(anonymous_page(req, ctx, StatusCode::BAD_REQUEST, |t| {
                signup_form(t, Some(&message), Some(&form))
            }))
        }
        Err(e) => Err(e.into()),
    }
}

async fn start_session(ctx: &Context, member: &otoq_entities::members::Model, to: &str) -> Out {
    let ttl = ctx.config.people.session_ttl;
    let new = sessions::create(&ctx.db, member, ttl).await?;
    let mut resp = redirect(to);
    if let Ok(v) = set_cookie(ctx, SESSION, &new.token, ttl.as_secs()).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `GET /signin`.
#[handler]
pub async fn signin_page(req: &Request, ctx: Data<&Context>) -> Response {
    if let Ok(_me) = me(req, &ctx).await {
        return redirect("/");
    }
    let open = ctx.config.people.signup == SignupPolicy::Open;
    anonymous_page(req, &ctx, StatusCode::OK, |t| {
        signin_form(t, None, "", open)
    })
}

/// `POST /signin`.
#[handler]
pub async fn signin(req: &Request, ctx: Data<&Context>, body: Body) -> Response {
    finish(signin_inner(req, &ctx, body).await)
}

async fn signin_inner(req: &Request, ctx: &Context, body: Body) -> Out {
    let form = anonymous_post(req, body).await?;
    let email = form.get("email");
    let open = ctx.config.people.signup == SignupPolicy::Open;
    let refuse = |status: StatusCode, message: String| -> Out {
        Ok(anonymous_page(req, ctx, status, |t| {
            signin_form(t, Some(&message), email, open)
        }))
    };
    match people::sign_in(ctx, email, form.get("password"), &client(req)).await? {
        SignIn::Ok(member) => start_session(ctx, &member, "/").await,
        SignIn::Invalid => refuse(StatusCode::UNAUTHORIZED, "Wrong email or password.".into()),
        SignIn::Locked { until } => refuse(
            StatusCode::LOCKED,
            format!(
                "Too many wrong passwords: sign-in is locked until {} UTC.",
                until.format("%H:%M")
            ),
        ),
        SignIn::RateLimited { retry_after } => refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many attempts: try again in {retry_after} seconds."),
        ),
    }
}

/// `POST /signout`: ends every session of the member.
#[handler]
pub async fn signout(req: &Request, ctx: Data<&Context>, body: Body) -> Response {
    finish(signout_inner(req, &ctx, body).await)
}

async fn signout_inner(req: &Request, ctx: &Context, body: Body) -> Out {
    let (me, _) = me_post(req, ctx, body).await?;
    sessions::end_all(&ctx.db, me.signed.member.id).await?;
    let mut resp = redirect("/signin");
    if let Ok(v) = set_cookie(ctx, SESSION, "", 0).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

//! Settings → API keys in the console (owners only): the keys, a new key shown once, revoking.

use maud::html;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use otoq_core::Context;
use otoq_core::api_keys;

use super::auth::{Me, me, me_post};
use super::layout::{self, Section};
use super::{Out, finish, id, ok, or_back, query, redirect};

async fn render(req: &Request, ctx: &Context, me: &Me, new_key: Option<(&str, &str)>) -> Out {
    let (rows, _) = api_keys::list(&ctx.db, me.account(), 100, 0).await?;
    let account = otoq_core::accounts::get(&ctx.db, me.account()).await?;
    ok(layout::page(
        me,
        Section::Keys,
        "API keys",
        html! {
            h1 { "API keys" }
            (layout::flash(&query(req)))
            @if let Some((name, plaintext)) = new_key {
                div.notice role="status" {
                    p { "Your new key " strong { (name) } " — copy it now: it is shown only once." }
                    pre.code #new-key { (plaintext) }
                    button type="button" data-copy="new-key" { "Copy" }
                }
            }
            @if !account.plan.has_api_access() {
                div.alert role="note" { "The " (account.plan) " plan does not include REST API access: keys work once the account is on Pro or Enterprise." }
            }
            p { "Keys let your developers use the " a href="/docs" { "REST API" } ". Send one as " code { "Authorization: Bearer otoq_…" } "." }
            div.card {
                h2 { "Create a key" }
                form method="post" action="/settings/keys" {
                    (layout::csrf(me))
                    label for="key-name" { "Name" }
                    input #key-name type="text" name="name" required maxlength="100" placeholder="e.g. CRM sync";
                    div.actions { button type="submit" { "Create key" } }
                }
            }
            div.table-wrap { table {
                caption.sr-only { "API keys" }
                thead { tr { th { "Name" } th { "Key" } th.opt { "Created" } th.opt { "Last used" } th { span.sr-only { "Actions" } } } }
                tbody {
                    @for k in &rows {
                        tr {
                            td { (k.name) }
                            td { code { (k.prefix) "…" } }
                            td.opt { (k.created_at.format("%Y-%m-%d")) }
                            td.opt { (k.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())) }
                            td {
                                form method="post" action={"/settings/keys/" (k.id) "/revoke"} data-confirm="Revoke this key? Programs using it stop working at once." {
                                    (layout::csrf(me))
                                    button.danger type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            } }
        },
    ))
}

/// `GET /settings/keys`.
#[handler]
pub async fn page(req: &Request, ctx: Data<&Context>) -> Response {
    finish(page_inner(req, &ctx).await)
}

async fn page_inner(req: &Request, ctx: &Context) -> Out {
    let me = me(req, ctx).await?;
    me.require(me.role().manages_keys())?;
    render(req, ctx, &me, None).await
}

/// `POST /settings/keys`: creates a key and shows it once.
#[handler]
pub async fn create(req: &Request, ctx: Data<&Context>, body: Body) -> Response {
    finish(create_inner(req, &ctx, body).await)
}

async fn create_inner(req: &Request, ctx: &Context, body: Body) -> Out {
    let (me, form) = me_post(req, ctx, body).await?;
    me.require(me.role().manages_keys())?;
    let name = or_back("/settings/keys", api_keys::validate_name(form.get("name")))?;
    let key = api_keys::insert(&ctx.db, me.account(), &name).await?;
    render(req, ctx, &me, Some((&key.model.name, &key.plaintext))).await
}

/// `POST /settings/keys/:id/revoke`.
#[handler]
pub async fn revoke(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
    body: Body,
) -> Response {
    finish(revoke_inner(req, &ctx, &raw, body).await)
}

async fn revoke_inner(req: &Request, ctx: &Context, raw: &str, body: Body) -> Out {
    let (me, _) = me_post(req, ctx, body).await?;
    me.require(me.role().manages_keys())?;
    api_keys::revoke(&ctx.db, &ctx.bus, me.account(), id(raw)?).await?;
    Ok(redirect("/settings/keys?notice=Key%20revoked"))
}

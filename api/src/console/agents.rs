//! Agents in the console: the list, creating one, its settings with a live preview (the real
//! widget on the page), turning it on and off, deleting it, and its install snippets.

use maud::{Markup, PreEscaped, html};
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};

use otoq_core::Context;
use otoq_core::agents::{self, AgentPatch, LEAD_FIELDS, NewAgent, Patch, WidgetSettings};
use otoq_entities::agents::Model as Agent;
use otoq_entities::enums::{LeadFormTrigger, Personality};

use super::auth::{Me, me, me_post};
use super::layout::{self, Section};
use super::{Out, finish, id, ok, or_back, query, redirect};

/// The agent's tabs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tab {
    Settings,
    Knowledge,
    Install,
}

/// The heading and tabs of an agent's pages.
pub(crate) fn header(a: &Agent, tab: Tab) -> Markup {
    let cur = |t: Tab| (t == tab).then_some("page");
    html! {
        p { a href="/agents" { "← Agents" } }
        h1 { (a.name) " " @if a.is_active { span.badge.on { "on" } } @else { span.badge.off { "off" } } }
        nav.tabs aria-label="Agent" {
            a href={"/agents/" (a.id)} aria-current=[cur(Tab::Settings)] { "Settings & preview" }
            a href={"/agents/" (a.id) "/knowledge"} aria-current=[cur(Tab::Knowledge)] { "Knowledge" }
            a href={"/agents/" (a.id) "/install"} aria-current=[cur(Tab::Install)] { "Install" }
        }
    }
}

/// The agent of `raw_id` in the member's account (404 otherwise), for members who manage agents.
pub(crate) async fn agent_of(ctx: &Context, me: &Me, raw_id: &str) -> Result<Agent, super::Fail> {
    me.require(me.role().manages_agents())?;
    Ok(agents::get(ctx, me.account(), id(raw_id)?).await?)
}

/// `GET /agents`.
#[handler]
pub async fn list(req: &Request, ctx: Data<&Context>) -> Response {
    finish(list_inner(req, &ctx).await)
}

async fn list_inner(req: &Request, ctx: &Context) -> Out {
    let me = me(req, ctx).await?;
    me.require(me.role().manages_agents())?;
    let (rows, total) = agents::list(ctx, me.account(), 100, 0).await?;
    ok(layout::page(
        &me,
        Section::Agents,
        "Agents",
        html! {
            h1 { "Agents" }
            (layout::flash(&query(req)))
            div.card {
                h2 { "Create an agent" }
                form method="post" action="/agents" {
                    (layout::csrf(&me))
                    label for="name" { "Name" }
                    input #name type="text" name="name" required maxlength="100" placeholder="e.g. Outdoor Shop assistant";
                    div.actions { button type="submit" { "Create agent" } }
                }
            }
            @if total == 0 {
                p { "No agents yet: create the first one above." }
            } @else {
                div.table-wrap { table {
                    caption.sr-only { "Your agents" }
                    thead { tr { th { "Name" } th { "Status" } th.opt { "Created" } } }
                    tbody {
                        @for a in &rows {
                            tr {
                                td { a href={"/agents/" (a.id)} { (a.name) } }
                                td { @if a.is_active { span.badge.on { "on" } } @else { span.badge.off { "off" } } }
                                td.opt { (a.created_at.format("%Y-%m-%d")) }
                            }
                        }
                    }
                } }
            }
        },
    ))
}

/// `POST /agents`.
#[handler]
pub async fn create(req: &Request, ctx: Data<&Context>, body: Body) -> Response {
    finish(create_inner(req, &ctx, body).await)
}

async fn create_inner(req: &Request, ctx: &Context, body: Body) -> Out {
    let (me, form) = me_post(req, ctx, body).await?;
    me.require(me.role().manages_agents())?;
    let new = NewAgent {
        name: form.get("name").to_string(),
        ..Default::default()
    };
    let a = or_back("/agents", agents::create(ctx, me.account(), new).await)?;
    Ok(redirect(&format!("/agents/{}", a.id)))
}

fn origins_text(a: &Agent) -> String {
    serde_json::from_value::<Vec<String>>(a.allowed_origins.clone())
        .unwrap_or_default()
        .join("\n")
}

/// `GET /agents/:id`: the settings and the live preview.
#[handler]
pub async fn edit(req: &Request, ctx: Data<&Context>, Path(raw): Path<String>) -> Response {
    finish(edit_inner(req, &ctx, &raw).await)
}

async fn edit_inner(req: &Request, ctx: &Context, raw: &str) -> Out {
    let me = me(req, ctx).await?;
    let a = agent_of(ctx, &me, raw).await?;
    let fields = agents::lead_form_fields(&a);
    ok(layout::page(
        &me,
        Section::Agents,
        &a.name,
        html! {
            (header(&a, Tab::Settings))
            (layout::flash(&query(req)))
            div.grid {
                form.card method="post" action={"/agents/" (a.id)} {
                    (layout::csrf(&me))
                    h2 { "Settings" }
                    label.inline { input type="checkbox" name="is_active" value="on" checked[a.is_active]; "On: the widget answers visitors" }
                    label for="name" { "Name" }
                    input #name type="text" name="name" required maxlength="100" value=(a.name);
                    label for="personality" { "Personality" }
                    select #personality name="personality" {
                        @for p in Personality::ALL {
                            option value=(p.as_str()) selected[*p == a.personality] { (p.as_str()) }
                        }
                    }
                    label for="welcome_message" { "Welcome message" }
                    input #welcome_message type="text" name="welcome_message" maxlength="500" value=(a.welcome_message.clone().unwrap_or_default());
                    label for="system_prompt" { "Instructions (system prompt)" }
                    textarea #system_prompt name="system_prompt" maxlength="4000" { (a.system_prompt.clone().unwrap_or_default()) }
                    label for="language" { "Language" }
                    input #language type="text" name="language" placeholder="auto (e.g. en, fr, pt-BR)" value=(a.language.clone().unwrap_or_default());
                    label for="primary_color" { "Colour" }
                    input #primary_color type="color" name="primary_color" value=(a.primary_color);
                    label for="allowed_origins" { "Allowed origins" }
                    textarea #allowed_origins name="allowed_origins" aria-describedby="origins-hint" placeholder="https://www.example.com" { (origins_text(&a)) }
                    p.hint #origins-hint { "One per line, like https://www.example.com. Empty: any site may embed this agent." }
                    fieldset {
                        legend { "Lead form fields" }
                        @for f in LEAD_FIELDS {
                            label.inline { input type="checkbox" name="lead_form_fields" value=(f) checked[fields.iter().any(|x| x == f)]; (f) }
                        }
                    }
                    label for="lead_form_trigger" { "Show the lead form" }
                    select #lead_form_trigger name="lead_form_trigger" {
                        @for t in LeadFormTrigger::ALL {
                            option value=(t.as_str()) selected[*t == a.lead_form_trigger] { (t.as_str().replace('_', " ")) }
                        }
                    }
                    label for="lead_form_after_messages" { "after this many visitor messages" }
                    input #lead_form_after_messages type="number" name="lead_form_after_messages" min="1" max="50" value=(a.lead_form_after_messages);
                    label for="daily_message_cap" { "Widget messages answered per day" }
                    input #daily_message_cap type="number" name="daily_message_cap" min="1" max="1000000" value=(a.daily_message_cap);
                    div.actions {
                        button type="submit" { "Save" }
                        a.button.secondary href={"/agents/" (a.id) "/delete"} { "Delete…" }
                    }
                }
                section.card aria-labelledby="preview-h" {
                    h2 #preview-h { "Live preview" }
                    @if a.is_active {
                        p { "The real widget, talking to this agent, is at the bottom right of this page. Open it and ask a question." }
                        (PreEscaped(crate::widget::script::preview(&a)))
                    } @else {
                        p { "This agent is off: turn it on to try it here." }
                    }
                }
            }
        },
    ))
}

fn optional(v: &str) -> Patch<String> {
    if v.trim().is_empty() {
        Patch::Clear
    } else {
        Patch::Set(v.to_string())
    }
}

/// `POST /agents/:id`: saves the settings.
#[handler]
pub async fn update(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
    body: Body,
) -> Response {
    finish(update_inner(req, &ctx, &raw, body).await)
}

async fn update_inner(req: &Request, ctx: &Context, raw: &str, body: Body) -> Out {
    let (me, form) = me_post(req, ctx, body).await?;
    let a = agent_of(ctx, &me, raw).await?;
    let back = format!("/agents/{}", a.id);
    let parse_num = |field: &str| -> Result<Option<i32>, super::Fail> {
        let v = form.get(field).trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| {
            super::Fail::new(super::back_with_error(
                &back,
                &format!("`{field}` must be a whole number"),
            ))
        })
    };
    let personality = match form.get("personality") {
        "" => None,
        p => Some(or_back(
            &back,
            p.parse::<Personality>()
                .map_err(|e| otoq_core::Error::validation("personality", e.to_string())),
        )?),
    };
    let trigger = match form.get("lead_form_trigger") {
        "" => None,
        t => Some(or_back(
            &back,
            t.parse::<LeadFormTrigger>()
                .map_err(|e| otoq_core::Error::validation("lead_form_trigger", e.to_string())),
        )?),
    };
    let patch = AgentPatch {
        name: Some(form.get("name").to_string()),
        personality,
        system_prompt: optional(form.get("system_prompt")),
        language: optional(form.get("language")),
        welcome_message: optional(form.get("welcome_message")),
        primary_color: Some(form.get("primary_color").to_string()).filter(|c| !c.is_empty()),
        is_active: Some(form.has("is_active")),
        allowed_origins: Some(
            form.get("allowed_origins")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        widget: WidgetSettings {
            lead_form_fields: Some(form.all("lead_form_fields")),
            lead_form_trigger: trigger,
            lead_form_after_messages: parse_num("lead_form_after_messages")?,
            daily_message_cap: parse_num("daily_message_cap")?,
        },
    };
    or_back(&back, agents::update(ctx, me.account(), a.id, patch).await)?;
    Ok(redirect(&format!("{back}?notice=Saved")))
}

/// `GET /agents/:id/delete`: asks before deleting.
#[handler]
pub async fn confirm_delete(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
) -> Response {
    finish(confirm_inner(req, &ctx, &raw).await)
}

async fn confirm_inner(req: &Request, ctx: &Context, raw: &str) -> Out {
    let me = me(req, ctx).await?;
    let a = agent_of(ctx, &me, raw).await?;
    ok(layout::page(
        &me,
        Section::Agents,
        "Delete agent",
        html! {
            div.card.narrow {
                h1 { "Delete " (a.name) "?" }
                p { "Its knowledge, conversations and widget go with it. This cannot be undone." }
                form method="post" action={"/agents/" (a.id) "/delete"} {
                    (layout::csrf(&me))
                    div.actions {
                        button.danger type="submit" { "Delete for good" }
                        a.button.secondary href={"/agents/" (a.id)} { "Cancel" }
                    }
                }
            }
        },
    ))
}

/// `POST /agents/:id/delete`.
#[handler]
pub async fn delete(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
    body: Body,
) -> Response {
    finish(delete_inner(req, &ctx, &raw, body).await)
}

async fn delete_inner(req: &Request, ctx: &Context, raw: &str, body: Body) -> Out {
    let (me, _) = me_post(req, ctx, body).await?;
    let a = agent_of(ctx, &me, raw).await?;
    agents::delete(ctx, me.account(), a.id).await?;
    Ok(redirect("/agents?notice=Agent%20deleted"))
}

/// `GET /agents/:id/install`: the snippets with copy buttons, and the allowed origins.
#[handler]
pub async fn install(req: &Request, ctx: Data<&Context>, Path(raw): Path<String>) -> Response {
    finish(install_inner(req, &ctx, &raw).await)
}

async fn install_inner(req: &Request, ctx: &Context, raw: &str) -> Out {
    let me = me(req, ctx).await?;
    let a = agent_of(ctx, &me, raw).await?;
    let embed = crate::routes::agent_widget::embed(&ctx.config.public_url, &a.public_id);
    let origins = origins_text(&a);
    ok(layout::page(
        &me,
        Section::Agents,
        "Install",
        html! {
            (header(&a, Tab::Install))
            div.card {
                h2 { "Add the chat to your site" }
                p { "Paste this line into your site's HTML, just before " code { "</body>" } "." }
                pre.code #snippet { (embed.script) }
                div.actions { button type="button" data-copy="snippet" { "Copy" } }
            }
            div.card {
                h2 { "Or as an iframe" }
                p { "For sites that do not allow scripts." }
                pre.code #iframe { (embed.iframe) }
                div.actions { button.secondary type="button" data-copy="iframe" { "Copy" } }
            }
            div.card {
                h2 { "Allowed origins" }
                @if origins.is_empty() {
                    p { "Any site may show this agent. " a href={"/agents/" (a.id)} { "Restrict it to your sites" } "." }
                } @else {
                    ul { @for o in origins.lines() { li { code { (o) } } } }
                    p { a href={"/agents/" (a.id)} { "Change" } }
                }
            }
        },
    ))
}

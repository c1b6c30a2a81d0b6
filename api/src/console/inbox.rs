//! The inbox in the console: conversations with filters, a transcript with the sources under
//! each answer, and the leads table with its CSV export.

use maud::html;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use uuid::Uuid;

use otoq_core::Context;
use otoq_core::conversations::{self as convs, Filter};
use otoq_core::leads::store as lead_store;
use otoq_entities::enums::{ConversationStatus, Role};

use super::auth::me;
use super::layout::{self, Section};
use super::{Out, finish, id, ok, query};

const PAGE: u64 = 100;

async fn agent_names(ctx: &Context, account: Uuid) -> otoq_core::Result<Vec<(Uuid, String)>> {
    let (rows, _) = otoq_core::agents::list(ctx, account, 1000, 0).await?;
    Ok(rows.into_iter().map(|a| (a.id, a.name)).collect())
}

fn name_of(names: &[(Uuid, String)], id: Uuid) -> &str {
    names
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| n.as_str())
        .unwrap_or("(deleted agent)")
}

/// `GET /conversations?agent=&status=`.
#[handler]
pub async fn conversations(req: &Request, ctx: Data<&Context>) -> Response {
    finish(conversations_inner(req, &ctx).await)
}

async fn conversations_inner(req: &Request, ctx: &Context) -> Out {
    let me = me(req, ctx).await?;
    let q = query(req);
    let names = agent_names(ctx, me.account()).await?;
    let filter = Filter {
        agent_id: q.get("agent").parse().ok(),
        status: q.get("status").parse::<ConversationStatus>().ok(),
        ..Default::default()
    };
    let (rows, total) = convs::list(&ctx.db, me.account(), &filter, PAGE, 0).await?;
    ok(layout::page(
        &me,
        Section::Conversations,
        "Conversations",
        html! {
            h1 { "Conversations" }
            form.filters.card method="get" action="/conversations" {
                label { "Agent" br;
                    select name="agent" {
                        option value="" { "All agents" }
                        @for (i, n) in &names { option value=(i) selected[filter.agent_id == Some(*i)] { (n) } }
                    }
                }
                label { "Status" br;
                    select name="status" {
                        option value="" { "Any status" }
                        @for s in ConversationStatus::ALL {
                            option value=(s.as_str()) selected[filter.status == Some(*s)] { (s.as_str().replace('_', " ")) }
                        }
                    }
                }
                button.secondary type="submit" { "Filter" }
            }
            p.hint { (super::count(total, "conversation")) @if total > PAGE { ", the latest " (PAGE) " shown" } }
            div.table-wrap { table {
                caption.sr-only { "Conversations" }
                thead { tr { th { "Started" } th { "Agent" } th { "Status" } th.opt { "Messages" } th.opt { "Unanswered" } th.opt { "Sentiment" } } }
                tbody {
                    @for c in &rows {
                        tr {
                            td { a href={"/conversations/" (c.id)} { (c.created_at.format("%Y-%m-%d %H:%M")) } }
                            td { (name_of(&names, c.agent_id)) }
                            td { span.badge { (c.status.as_str().replace('_', " ")) } }
                            td.opt { (c.message_count) }
                            td.opt { (c.unanswered_count) }
                            td.opt { (c.sentiment.as_str()) }
                        }
                    }
                }
            } }
        },
    ))
}

/// `GET /conversations/:id`: the transcript.
#[handler]
pub async fn conversation(req: &Request, ctx: Data<&Context>, Path(raw): Path<String>) -> Response {
    finish(conversation_inner(req, &ctx, &raw).await)
}

fn cited(sources: &serde_json::Value) -> Vec<(String, Option<String>)> {
    sources
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let title = s["title"]
                        .as_str()
                        .or(s["name"].as_str())
                        .unwrap_or("source");
                    (title.to_string(), s["url"].as_str().map(str::to_string))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn conversation_inner(req: &Request, ctx: &Context, raw: &str) -> Out {
    let me = me(req, ctx).await?;
    let c = convs::get(&ctx.db, me.account(), id(raw)?).await?;
    let msgs = convs::messages(&ctx.db, c.id).await?;
    let names = agent_names(ctx, me.account()).await?;
    let its_leads = lead_store::of_conversation(&ctx.db, me.account(), c.id).await?;
    ok(layout::page(
        &me,
        Section::Conversations,
        "Conversation",
        html! {
            p { a href="/conversations" { "← Conversations" } }
            h1 { "Conversation with " (name_of(&names, c.agent_id)) }
            p { span.badge { (c.status.as_str().replace('_', " ")) } " · started " (c.created_at.format("%Y-%m-%d %H:%M")) " UTC · sentiment " (c.sentiment.as_str()) }
            @for l in &its_leads {
                div.notice role="note" { "Lead: " (l.name.clone().unwrap_or_default()) " " (l.email.clone().unwrap_or_default()) " " (l.phone.clone().unwrap_or_default()) " · score " (l.score) }
            }
            section aria-label="Transcript" {
                @for m in &msgs {
                    @let who = if m.role == Role::User { "user" } else { "assistant" };
                    div class={"msg " (who)} {
                        div.who { (if m.role == Role::User { "Visitor" } else { "Agent" }) }
                        div { (m.content) }
                        @let src = cited(&m.sources);
                        @if !src.is_empty() {
                            ul.sources aria-label="Sources" {
                                @for (t, u) in &src {
                                    li { @if let Some(u) = u { a href=(u) rel="noopener noreferrer" target="_blank" { (t) } } @else { (t) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /leads?agent=`.
#[handler]
pub async fn leads(req: &Request, ctx: Data<&Context>) -> Response {
    finish(leads_inner(req, &ctx).await)
}

fn lead_filter(req: &Request) -> lead_store::Filter {
    let q = query(req);
    lead_store::Filter {
        agent_id: q.get("agent").parse().ok(),
        min_score: q.get("min_score").parse().ok(),
        ..Default::default()
    }
}

fn reasons(v: &serde_json::Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["detail"].as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

async fn leads_inner(req: &Request, ctx: &Context) -> Out {
    let me = me(req, ctx).await?;
    let f = lead_filter(req);
    let names = agent_names(ctx, me.account()).await?;
    let (rows, total) = lead_store::list(&ctx.db, me.account(), f, PAGE, 0).await?;
    let csv = format!("/leads.csv?{}", req.uri().query().unwrap_or(""));
    ok(layout::page(
        &me,
        Section::Leads,
        "Leads",
        html! {
            h1 { "Leads" }
            form.filters.card method="get" action="/leads" {
                label { "Agent" br;
                    select name="agent" {
                        option value="" { "All agents" }
                        @for (i, n) in &names { option value=(i) selected[f.agent_id == Some(*i)] { (n) } }
                    }
                }
                label { "Score at least" br; input type="number" name="min_score" min="0" max="100" value=[f.min_score]; }
                button.secondary type="submit" { "Filter" }
                a.button href=(csv) download { "Export CSV" }
            }
            p.hint { (super::count(total, "lead")) @if total > PAGE { ", the latest " (PAGE) " shown (the CSV has them all)" } }
            div.table-wrap { table {
                caption.sr-only { "Leads" }
                thead { tr { th { "Name" } th { "Email" } th.opt { "Phone" } th.opt { "Company" } th { "Score" } th.opt { "Why" } th.opt { "Captured" } } }
                tbody {
                    @for l in &rows {
                        tr {
                            td { @if let Some(c) = l.conversation_id { a href={"/conversations/" (c)} { (l.name.clone().unwrap_or_else(|| "(no name)".into())) } } @else { (l.name.clone().unwrap_or_default()) } }
                            td { (l.email.clone().unwrap_or_default()) }
                            td.opt { (l.phone.clone().unwrap_or_default()) }
                            td.opt { (l.company.clone().unwrap_or_default()) }
                            td { (l.score) }
                            td.opt { (reasons(&l.score_reasons)) }
                            td.opt { (l.created_at.format("%Y-%m-%d %H:%M")) }
                        }
                    }
                }
            } }
        },
    ))
}

/// One CSV cell: quoted when needed, and a leading `= + - @` defused (spreadsheet formulas).
fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// `GET /leads.csv`: every lead matching the filters.
#[handler]
pub async fn leads_csv(req: &Request, ctx: Data<&Context>) -> Response {
    finish(leads_csv_inner(req, &ctx).await)
}

async fn leads_csv_inner(req: &Request, ctx: &Context) -> Out {
    let me = me(req, ctx).await?;
    let names = agent_names(ctx, me.account()).await?;
    let mut out = String::from(
        "name,email,phone,company,score,reasons,source,agent,conversation_id,captured_at\r\n",
    );
    let mut offset = 0;
    loop {
        let (rows, total) =
            lead_store::list(&ctx.db, me.account(), lead_filter(req), 1000, offset).await?;
        for l in &rows {
            let fields = [
                l.name.clone().unwrap_or_default(),
                l.email.clone().unwrap_or_default(),
                l.phone.clone().unwrap_or_default(),
                l.company.clone().unwrap_or_default(),
                l.score.to_string(),
                reasons(&l.score_reasons),
                l.source.to_string(),
                name_of(&names, l.agent_id).to_string(),
                l.conversation_id.map(|c| c.to_string()).unwrap_or_default(),
                l.created_at.to_rfc3339(),
            ];
            out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        offset += rows.len() as u64;
        if rows.is_empty() || offset >= total {
            break;
        }
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"leads.csv\"",
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(out))
}

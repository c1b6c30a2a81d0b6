//! An agent's knowledge in the console: add a text, Q&A, a website or an upload; the sources
//! with their status and progress, refreshed by htmx while a sync runs; resync and delete.

use maud::{Markup, html};
use poem::web::{Data, Multipart, Path};
use poem::{Body, FromRequest, Request, RequestBody, Response, handler};
use tokio::io::AsyncReadExt;

use otoq_core::Context;
use otoq_core::sources::{self, NewSource, QaPair, Refresh};
use otoq_entities::enums::SourceStatus;
use otoq_entities::sources::Model as Source;

use super::agents::{Tab, agent_of, header};
use super::auth::{Me, check_csrf, me, me_post};
use super::layout::{self, Section};
use super::{Fail, Form, Out, finish, id, ok, or_back, query, redirect};

fn syncing(s: &Source) -> bool {
    matches!(s.status, SourceStatus::Queued | SourceStatus::Processing)
}

/// The sources table; while one syncs, htmx fetches it again every second.
fn table(me: &Me, agent_id: uuid::Uuid, rows: &[Source]) -> Markup {
    let live = rows.iter().any(syncing);
    let url = format!("/agents/{agent_id}/knowledge/sources");
    html! {
        div #sources hx-get=[live.then_some(&url)] hx-trigger=[live.then_some("every 1s")] hx-swap="outerHTML" aria-live="polite" {
            @if rows.is_empty() {
                p { "No knowledge yet: add some below. The agent answers only from what you give it." }
            } @else {
                div.table-wrap { table {
                    caption.sr-only { "Sources" }
                    thead { tr { th { "Source" } th { "Type" } th { "Status" } th.opt { "Chunks" } th { span.sr-only { "Actions" } } } }
                    tbody {
                        @for s in rows {
                            tr data-source=(s.id) {
                                td {
                                    (s.name)
                                    @if let Some(u) = &s.url { br; span.hint { (u) } }
                                    @if let Some(e) = &s.error { br; span.hint role="note" { "Failed: " (e) } }
                                }
                                td { (s.kind.as_str()) }
                                td {
                                    span class={"badge " (s.status.as_str())} { (s.status.as_str()) }
                                    @if syncing(s) && s.pages_found > 0 {
                                        br;
                                        progress value=(s.pages_done + s.pages_failed) max=(s.pages_found) aria-label="Sync progress" {}
                                        span.hint { " " (s.pages_done) " / " (s.pages_found) " pages" }
                                    }
                                }
                                td.opt { (s.chunks) }
                                td {
                                    div.actions {
                                        form method="post" action={"/sources/" (s.id) "/resync"} {
                                            (layout::csrf(me))
                                            button.secondary type="submit" disabled[syncing(s)] { "Resync" }
                                        }
                                        form method="post" action={"/sources/" (s.id) "/delete"} data-confirm="Delete this source? The agent forgets it." {
                                            (layout::csrf(me))
                                            button.danger type="submit" { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// `GET /agents/:id/knowledge`.
#[handler]
pub async fn page(req: &Request, ctx: Data<&Context>, Path(raw): Path<String>) -> Response {
    finish(page_inner(req, &ctx, &raw).await)
}

async fn page_inner(req: &Request, ctx: &Context, raw: &str) -> Out {
    let me = me(req, ctx).await?;
    let a = agent_of(ctx, &me, raw).await?;
    let (rows, _) = sources::list(ctx, me.account(), a.id, 200, 0).await?;
    let base = format!("/agents/{}/knowledge", a.id);
    ok(layout::page(
        &me,
        Section::Agents,
        "Knowledge",
        html! {
            (header(&a, Tab::Knowledge))
            (layout::flash(&query(req)))
            h2 { "Sources" }
            (table(&me, a.id, &rows))
            div.grid {
                form.card method="post" action={(base) "/text"} {
                    (layout::csrf(&me))
                    h2 { "Add a text" }
                    label for="text-title" { "Title" }
                    input #text-title type="text" name="title" required maxlength="200";
                    label for="text-content" { "Text" }
                    textarea #text-content name="content" required {}
                    div.actions { button type="submit" { "Add text" } }
                }
                form.card method="post" action={(base) "/qa"} {
                    (layout::csrf(&me))
                    h2 { "Add a question and its answer" }
                    label for="qa-q" { "Question" }
                    input #qa-q type="text" name="question" required;
                    label for="qa-a" { "Answer" }
                    textarea #qa-a name="answer" required {}
                    div.actions { button type="submit" { "Add Q&A" } }
                }
                form.card method="post" action={(base) "/url"} {
                    (layout::csrf(&me))
                    h2 { "Add a website" }
                    label for="url" { "Address" }
                    input #url type="url" name="url" required placeholder="https://www.example.com";
                    label for="max_pages" { "Pages at most" }
                    input #max_pages type="number" name="max_pages" min="1" value="50";
                    div.actions { button type="submit" { "Crawl website" } }
                }
                form.card method="post" action={(base) "/upload"} enctype="multipart/form-data" {
                    (layout::csrf(&me))
                    h2 { "Upload a document" }
                    label for="file" { "File (PDF, DOCX, TXT, Markdown, HTML or CSV)" }
                    input #file type="file" name="file" required accept=".pdf,.docx,.txt,.md,.markdown,.html,.htm,.csv";
                    div.actions { button type="submit" { "Upload" } }
                }
            }
        },
    ))
}

/// `GET /agents/:id/knowledge/sources`: the table alone (htmx polling).
#[handler]
pub async fn sources_table(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
) -> Response {
    finish(sources_inner(req, &ctx, &raw).await)
}

async fn sources_inner(req: &Request, ctx: &Context, raw: &str) -> Out {
    let me = me(req, ctx).await?;
    let a = agent_of(ctx, &me, raw).await?;
    let (rows, _) = sources::list(ctx, me.account(), a.id, 200, 0).await?;
    ok(table(&me, a.id, &rows))
}

/// `POST /agents/:id/knowledge/:kind` (`text`, `qa`, `url` or `upload`).
#[handler]
pub async fn add(
    req: &Request,
    ctx: Data<&Context>,
    Path((raw, kind)): Path<(String, String)>,
    body: Body,
) -> Response {
    finish(add_inner(req, &ctx, &raw, &kind, body).await)
}

async fn upload(req: &Request, ctx: &Context, body: Body) -> Result<(Me, NewSource), Fail> {
    let me = me(req, ctx).await?;
    let mut rb = RequestBody::new(body);
    let bad = |m: &str| Fail::new(super::message_page(poem::http::StatusCode::BAD_REQUEST, m));
    let mut mp = Multipart::from_request(req, &mut rb)
        .await
        .map_err(|_| bad("The upload must be a multipart form."))?;
    let max = ctx.config.max_upload_bytes;
    let (mut token, mut file) = (String::new(), None);
    while let Ok(Some(field)) = mp.next_field().await {
        match field.name() {
            Some("_csrf") => token = field.text().await.unwrap_or_default(),
            Some("file") => {
                let filename = field.file_name().unwrap_or("upload").to_string();
                let content_type = field.content_type().map(str::to_string);
                let mut bytes = Vec::new();
                field
                    .into_async_read()
                    .take(max as u64 + 1)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|_| bad("The upload could not be read."))?;
                if bytes.len() > max {
                    return Err(bad(&format!("The file is over the {max}-byte limit.")));
                }
                file = Some((filename, content_type, bytes));
            }
            _ => {}
        }
    }
    check_csrf(req, &me, &Form::parse(format!("_csrf={token}").as_bytes()))?;
    let (filename, content_type, bytes) = file.ok_or_else(|| bad("Choose a file to upload."))?;
    Ok((
        me,
        NewSource::File {
            filename,
            content_type,
            bytes,
            name: None,
            refresh: Refresh::Off,
        },
    ))
}

async fn add_inner(req: &Request, ctx: &Context, raw: &str, kind: &str, body: Body) -> Out {
    let (me, new) = if kind == "upload" {
        upload(req, ctx, body).await?
    } else {
        let (me, f) = me_post(req, ctx, body).await?;
        let new = match kind {
            "text" => NewSource::Text {
                title: f.get("title").to_string(),
                content: f.get("content").to_string(),
            },
            "qa" => NewSource::Qa {
                title: None,
                pairs: vec![QaPair {
                    question: f.get("question").to_string(),
                    answer: f.get("answer").to_string(),
                }],
            },
            "url" => NewSource::Url {
                url: f.get("url").to_string(),
                name: None,
                max_pages: f.get("max_pages").trim().parse().ok(),
                max_depth: None,
                refresh: Refresh::Off,
            },
            _ => return Err(Fail::new(super::not_found())),
        };
        (me, new)
    };
    let a = agent_of(ctx, &me, raw).await?;
    let back = format!("/agents/{}/knowledge", a.id);
    let account = otoq_core::accounts::get(&ctx.db, me.account()).await?;
    or_back(
        &back,
        sources::create(ctx, me.account(), account.plan, a.id, new).await,
    )?;
    Ok(redirect(&format!(
        "{back}?notice=Added:%20it%20is%20syncing"
    )))
}

async fn source_action(req: &Request, ctx: &Context, raw: &str, body: Body, again: bool) -> Out {
    let (me, _) = me_post(req, ctx, body).await?;
    me.require(me.role().manages_agents())?;
    let s = sources::get(&ctx.db, me.account(), id(raw)?).await?;
    if again {
        sources::resync(ctx, me.account(), s.id).await?;
    } else {
        sources::delete(ctx, me.account(), s.id).await?;
    }
    Ok(redirect(&format!("/agents/{}/knowledge", s.agent_id)))
}

/// `POST /sources/:id/resync`.
#[handler]
pub async fn resync(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
    body: Body,
) -> Response {
    finish(source_action(req, &ctx, &raw, body, true).await)
}

/// `POST /sources/:id/delete`.
#[handler]
pub async fn delete(
    req: &Request,
    ctx: Data<&Context>,
    Path(raw): Path<String>,
    body: Body,
) -> Response {
    finish(source_action(req, &ctx, &raw, body, false).await)
}

//! Knowledge sources: `/agents/{id}/sources`, `/agents/{id}/sources/upload`, `/sources/{id}`
//! and the pages or files of one, `/sources/{id}/documents`.

use otoq_core::Context;
use otoq_core::knowledge::outcomes;
use otoq_core::sources::{self, NewSource, QaPair, Refresh};
use otoq_entities::enums::{DocumentStatus, SourceKind, SourceStatus};
use otoq_entities::sources::Model;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi, Union};
use uuid::Uuid;

use super::Tag;
use crate::envelope::{self, Page};
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::text::NonBlankText;
use crate::timestamp::Timestamp;

/// What a sync found and did so far.
#[derive(Object)]
pub struct Progress {
    /// Pages or items found.
    pub found: i32,
    /// Pages or items read and indexed.
    pub done: i32,
    /// Pages or items that could not be read.
    pub failed: i32,
    /// Passages the agent can answer from.
    pub chunks: i32,
}

/// A knowledge source of an agent.
#[derive(Object)]
pub struct Source {
    pub id: Uuid,
    pub agent_id: Uuid,
    #[oai(rename = "type")]
    pub kind: SourceKind,
    pub name: String,
    /// The website (url sources).
    pub url: Option<String>,
    /// Pages read at most, after the plan's cap (url sources).
    pub max_pages: Option<u32>,
    /// Link depth followed at most (url sources).
    pub max_depth: Option<u32>,
    pub status: SourceStatus,
    pub progress: Progress,
    /// Why the last sync failed, for a person.
    pub error: Option<String>,
    pub refresh: Refresh,
    pub last_synced_at: Option<Timestamp>,
    pub next_sync_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Model> for Source {
    fn from(m: Model) -> Self {
        let crawl: Option<sources::CrawlSettings> = (m.kind == SourceKind::Url)
            .then(|| serde_json::from_value(m.config.clone()).ok())
            .flatten();
        Source {
            id: m.id,
            max_pages: crawl.map(|c| c.max_pages),
            max_depth: crawl.map(|c| c.max_depth),
            agent_id: m.agent_id,
            kind: m.kind,
            name: m.name,
            url: m.url,
            status: m.status,
            progress: Progress {
                found: m.pages_found,
                done: m.pages_done,
                failed: m.pages_failed,
                chunks: m.chunks,
            },
            error: m.error,
            refresh: m.refresh,
            last_synced_at: m.last_synced_at.map(Into::into),
            next_sync_at: m.next_sync_at.map(Into::into),
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

/// A page or file of a source and what became of it.
#[derive(Object)]
pub struct SourceDocument {
    /// The page's address (website sources).
    pub url: Option<String>,
    /// The page's title or the file's name, once read.
    pub title: Option<String>,
    pub status: DocumentStatus,
    /// Why it was not read, or read only in part, for a person.
    pub reason: Option<String>,
    /// Tokens indexed.
    pub tokens: i32,
    pub updated_at: Timestamp,
}

impl From<outcomes::Item> for SourceDocument {
    fn from(i: outcomes::Item) -> Self {
        SourceDocument {
            url: i.url,
            title: i.title,
            status: i.status,
            reason: i.reason,
            tokens: i.tokens,
            updated_at: i.updated_at.into(),
        }
    }
}

/// A website to crawl: same site only, robots.txt and sitemap.xml respected.
#[derive(Object)]
pub struct UrlSourceInput {
    /// An absolute http(s) address of the start page, e.g. `https://example.com/docs/`
    /// (internationalised host names in their `xn--` form).
    #[oai(validator(
        max_length = 2048,
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://(([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?#][!-~]*)?$"
    ))]
    pub url: String,
    /// Defaults to the host name.
    pub name: Option<NonBlankText<200>>,
    /// Pages to read at most (default 500; capped by the plan: free 50, starter 200, growth 1,000,
    /// pro 5,000, enterprise 50,000).
    #[oai(validator(minimum(value = "1"), maximum(value = "50000")))]
    pub max_pages: Option<u32>,
    /// Links to follow from the start page at most (default 5).
    #[oai(validator(minimum(value = "0"), maximum(value = "20")))]
    pub max_depth: Option<u32>,
    /// Re-crawl by itself (default off).
    pub refresh: Option<Refresh>,
}

/// A text to learn.
#[derive(Object)]
pub struct TextSourceInput {
    pub title: NonBlankText<200>,
    pub content: NonBlankText<500000>,
}

/// A question and its answer; the pair is kept whole.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct QaPairInput {
    pub question: NonBlankText<1000>,
    pub answer: NonBlankText<10000>,
}

/// Questions and answers.
#[derive(Object)]
pub struct QaSourceInput {
    pub title: Option<NonBlankText<200>>,
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub pairs: Vec<QaPairInput>,
}

/// A new source, by `type`.
#[derive(Union)]
#[oai(discriminator_name = "type", one_of)]
pub enum CreateSource {
    #[oai(mapping = "url")]
    Url(UrlSourceInput),
    #[oai(mapping = "text")]
    Text(TextSourceInput),
    #[oai(mapping = "qa")]
    Qa(QaSourceInput),
}

/// A document to learn: PDF, DOCX, TXT, Markdown, HTML or CSV.
#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub struct UploadSource {
    /// The file (at most the configured upload limit, 20 MiB by default).
    pub file: Upload,
    /// Defaults to the file name.
    #[oai(validator(max_length = 200))]
    pub name: Option<String>,
    /// Re-read by itself (default off).
    pub refresh: Option<Refresh>,
}

/// The source was accepted; its sync runs in the background.
#[derive(ApiResponse)]
pub enum Accepted {
    #[oai(status = 202)]
    Accepted(Json<envelope::Data<Source>>),
}

#[derive(Default)]
pub struct SourcesApi;

#[OpenApi(tag = "Tag::Sources")]
impl SourcesApi {
    /// List an agent's sources
    #[oai(
        path = "/agents/:id/sources",
        method = "get",
        operation_id = "listSources"
    )]
    async fn list(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<Source>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let (rows, total) =
            sources::list(&ctx, auth.0.account_id, id.0, page.limit, page.offset).await?;
        Ok(envelope::list(
            rows.into_iter().map(Source::from).collect(),
            total,
            page,
        ))
    }

    /// Add a website, text or Q&A source
    ///
    /// Answers 202 at once; the sync runs in the background. Follow it with `GET /sources/{id}`.
    #[oai(
        path = "/agents/:id/sources",
        method = "post",
        operation_id = "createSource"
    )]
    async fn create(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
        body: Json<CreateSource>,
    ) -> Result<Accepted, ApiError> {
        let new = match body.0 {
            CreateSource::Url(u) => NewSource::Url {
                url: u.url,
                name: u.name.map(Into::into),
                max_pages: u.max_pages,
                max_depth: u.max_depth,
                refresh: u.refresh.unwrap_or(Refresh::Off),
            },
            CreateSource::Text(t) => NewSource::Text {
                title: t.title.into(),
                content: t.content.into(),
            },
            CreateSource::Qa(q) => NewSource::Qa {
                title: q.title.map(Into::into),
                pairs: q
                    .pairs
                    .into_iter()
                    .map(|p| QaPair {
                        question: p.question.into(),
                        answer: p.answer.into(),
                    })
                    .collect(),
            },
        };
        let source = sources::create(&ctx, auth.0.account_id, auth.0.plan, id.0, new).await?;
        Ok(Accepted::Accepted(envelope::data(source.into())))
    }

    /// Upload a document
    ///
    /// Multipart with a `file` part: PDF, DOCX, TXT, Markdown, HTML or CSV. Answers 202 at once.
    #[oai(
        path = "/agents/:id/sources/upload",
        method = "post",
        operation_id = "uploadSource"
    )]
    async fn upload(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
        form: UploadSource,
    ) -> Result<Accepted, ApiError> {
        // The type is judged by the sync, which fails the source with a clear reason if unsupported.
        let filename = form.file.file_name().unwrap_or("upload").to_string();
        let content_type = form.file.content_type().map(str::to_string);
        let bytes = form
            .file
            .into_vec()
            .await
            .map_err(|e| ApiError::validation(format!("`file` could not be read: {e}")))?;
        let new = NewSource::File {
            filename,
            content_type,
            bytes,
            name: form.name.filter(|n| !n.trim().is_empty()),
            refresh: form.refresh.unwrap_or(Refresh::Off),
        };
        let source = sources::create(&ctx, auth.0.account_id, auth.0.plan, id.0, new).await?;
        Ok(Accepted::Accepted(envelope::data(source.into())))
    }

    /// Get a source
    ///
    /// With its status and progress.
    #[oai(path = "/sources/:id", method = "get", operation_id = "getSource")]
    async fn get(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<Source>>, ApiError> {
        Ok(envelope::data(
            sources::get(&ctx.db, auth.0.account_id, id.0).await?.into(),
        ))
    }

    /// List a source's pages and files
    ///
    /// Each with its status: `indexed`, `partial`, `processing`, or `failed` / `skipped` with the
    /// reason (as found by the last sync). Indexed documents first.
    #[oai(
        path = "/sources/:id/documents",
        method = "get",
        operation_id = "listSourceDocuments"
    )]
    async fn documents(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<SourceDocument>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let source = sources::get(&ctx.db, auth.0.account_id, id.0).await?;
        let (rows, total) = outcomes::list(
            &ctx.db,
            auth.0.account_id,
            source.id,
            page.limit,
            page.offset,
        )
        .await?;
        Ok(envelope::list(
            rows.into_iter().map(SourceDocument::from).collect(),
            total,
            page,
        ))
    }

    /// Re-sync a source
    ///
    /// Reads it again; only changed documents are re-embedded, vanished ones removed. The agent keeps
    /// answering from the previous version until the sync finishes.
    #[oai(
        path = "/sources/:id/resync",
        method = "post",
        operation_id = "resyncSource"
    )]
    async fn resync(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Accepted, ApiError> {
        let source = sources::resync(&ctx, auth.0.account_id, id.0).await?;
        Ok(Accepted::Accepted(envelope::data(source.into())))
    }

    /// Delete a source
    ///
    /// The agent stops using it at once; its documents are purged in the background.
    #[oai(
        path = "/sources/:id",
        method = "delete",
        operation_id = "deleteSource"
    )]
    async fn delete(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Success>, ApiError> {
        sources::delete(&ctx, auth.0.account_id, id.0).await?;
        Ok(envelope::success())
    }
}

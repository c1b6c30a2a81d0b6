//! Syncs one knowledge source: read it (crawl, parse, or take the text), chunk and embed what
//! changed, stage it, and swap it in atomically at the end.
//!
//! A failure of the source itself (site unreachable, unreadable file) marks it `failed` with a
//! sentence for the owner and keeps the previous content answering; anything else is an error
//! and the job is retried, resuming from what this run already staged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use otoq_core::Context;
use otoq_core::embed::Embedder;
use otoq_core::knowledge::chunking::{self, ChunkConfig};
use otoq_core::knowledge::outcomes::{self, NotIndexed};
use otoq_core::knowledge::store::{self, DocInput, DocState, StagedChunk};
use otoq_core::knowledge::{ExtractedDoc, Section};
use otoq_core::sources::{CrawlSettings, QaPair};
use otoq_entities::enums::{DocumentStatus, SourceKind, SourceStatus};
use otoq_entities::{source_files, sources};
use sea_orm::{EntityTrait, Set};
use uuid::Uuid;

use crate::crawl::{self, CrawlConfig, CrawlEvent, CrawledPage};
use crate::extract::html::repeated::{Repeated, Repetition};
use crate::extract::{self, ExtractError};

mod shopify;

/// Page text held back at most while a site is crawled, to find what it repeats on every page.
const SITE_HELD_BYTES: usize = 64 << 20;

/// One sync run of one source, with what every step needs.
struct Run<'a> {
    ctx: &'a Context,
    source: &'a sources::Model,
    id: Uuid,
    embedder: Option<Arc<dyn Embedder>>,
}

/// A source-level failure: shown to the owner, not retried.
struct SourceFailed(String);

/// Counters reported on the source row while the sync runs.
#[derive(Default)]
struct Progress {
    found: i32,
    done: i32,
    failed: i32,
    chunks: i32,
    last_write: Option<Instant>,
}

pub async fn run(ctx: &Context, source_id: Uuid, run_id: Uuid) -> anyhow::Result<()> {
    let Some(source) = sources::Entity::find_by_id(source_id).one(&ctx.db).await? else {
        return Ok(());
    };
    if source.deleted_at.is_some() || source.run_id != Some(run_id) {
        // Deleted, or a newer sync was requested: this run is obsolete.
        return Ok(());
    }
    let mut progress = Progress::default();
    set_status(ctx, &source, SourceStatus::Processing, None, &progress).await?;
    let run = Run {
        ctx,
        source: &source,
        id: run_id,
        embedder: ctx.embedder().await,
    };
    let outcome = match source.kind {
        SourceKind::Url => run.website(&mut progress).await,
        SourceKind::File => run.file(&mut progress).await,
        SourceKind::Qa => run.qa(&mut progress).await,
        SourceKind::Shopify => run.shopify(&mut progress).await,
        SourceKind::Text => run.text(&mut progress).await,
    }?;
    // Still the current run? (A re-sync may have been requested meanwhile.)
    let current = sources::Entity::find_by_id(source_id).one(&ctx.db).await?;
    if current
        .as_ref()
        .is_none_or(|s| s.deleted_at.is_some() || s.run_id != Some(run_id))
    {
        return Ok(());
    }
    // What earlier runs recorded as not indexed is replaced by what this one found.
    outcomes::keep_only_run(&ctx.db, source_id, run_id).await?;
    match outcome {
        Err(SourceFailed(reason)) => {
            tracing::info!(%source_id, %reason, "source sync failed");
            set_status(ctx, &source, SourceStatus::Failed, Some(reason), &progress).await?;
        }
        Ok(()) => {
            let active = store::finish(&ctx.db, source_id, run_id).await?;
            progress.chunks = active as i32;
            let now = Utc::now();
            let change = sources::ActiveModel {
                status: Set(SourceStatus::Ready),
                error: Set(None),
                last_synced_at: Set(Some(now)),
                next_sync_at: Set(source.refresh.next_after(now)),
                ..counters(&progress)
            };
            otoq_core::sources::record(&ctx.db, source_id, change).await?;
            tracing::info!(%source_id, pages = progress.done, chunks = active, "source synced");
        }
    }
    Ok(())
}

/// Marks the source of a sync that was given up as failed with `reason` (if the run is still
/// the current one).
pub async fn give_up(
    ctx: &Context,
    source_id: Uuid,
    run_id: Uuid,
    reason: &str,
) -> anyhow::Result<()> {
    let Some(source) = sources::Entity::find_by_id(source_id).one(&ctx.db).await? else {
        return Ok(());
    };
    if source.deleted_at.is_some() || source.run_id != Some(run_id) {
        return Ok(());
    }
    let progress = Progress::default();
    set_status(
        ctx,
        &source,
        SourceStatus::Failed,
        Some(reason.to_string()),
        &progress,
    )
    .await
}

/// Re-indexes one document of `source` outside a sync run (a product changed in a shop):
/// embeds it only if its content changed and swaps just it in. Returns the active chunks.
pub(super) async fn reindex_one(
    ctx: &Context,
    source: &sources::Model,
    key: String,
    url: Option<String>,
    doc: ExtractedDoc,
) -> anyhow::Result<u64> {
    let run = Run {
        ctx,
        source,
        id: Uuid::new_v4(),
        embedder: ctx.embedder().await,
    };
    run.ingest(key.clone(), url, doc, false).await?;
    let n = otoq_core::knowledge::live::activate_document(
        &ctx.db,
        source.id,
        &key,
        run.id,
        source.run_id,
    )
    .await?;
    Ok(n)
}

fn counters(p: &Progress) -> sources::ActiveModel {
    sources::ActiveModel {
        pages_found: Set(p.found),
        pages_done: Set(p.done),
        pages_failed: Set(p.failed),
        chunks: Set(p.chunks),
        ..Default::default()
    }
}

async fn set_status(
    ctx: &Context,
    source: &sources::Model,
    status: SourceStatus,
    error: Option<String>,
    p: &Progress,
) -> anyhow::Result<()> {
    let change = sources::ActiveModel {
        status: Set(status),
        error: Set(error),
        ..counters(p)
    };
    otoq_core::sources::record(&ctx.db, source.id, change).await?;
    Ok(())
}

/// Writes the counters at most every second.
async fn report(
    ctx: &Context,
    source_id: Uuid,
    p: &mut Progress,
    force: bool,
) -> anyhow::Result<()> {
    if !force
        && p.last_write
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
    {
        return Ok(());
    }
    p.last_write = Some(Instant::now());
    otoq_core::sources::record(&ctx.db, source_id, counters(p)).await?;
    Ok(())
}

impl Run<'_> {
    /// Chunks, embeds and stages one document unless this run already has it; returns its chunk count.
    async fn ingest(
        &self,
        key: String,
        url: Option<String>,
        doc: ExtractedDoc,
        whole: bool,
    ) -> anyhow::Result<usize> {
        let (ctx, source, run, embedder) = (self.ctx, self.source, self.id, self.embedder.as_ref());
        let hash = store::content_hash(&doc);
        match store::doc_state(&ctx.db, source.id, &key, &hash, run).await? {
            DocState::Unchanged | DocState::AlreadyStaged => return Ok(0),
            DocState::Stage => {}
        }
        let pieces = if whole {
            doc.sections
                .iter()
                .map(|s| chunking::chunk_whole(&s.text, s.heading_path.clone()))
                .collect()
        } else {
            let sections = doc.sections.clone();
            tokio::task::spawn_blocking(move || {
                chunking::chunk_sections(&sections, &ChunkConfig::default())
            })
            .await
            .context("chunking")?
        };
        let mut staged: Vec<StagedChunk> = pieces
            .into_iter()
            .map(|c| StagedChunk {
                text: c.text,
                heading_path: c.heading_path,
                tokens: c.tokens,
                embedding: None,
                sentence_embeddings: Vec::new(),
            })
            .collect();
        if let Some(e) = embedder
            && !staged.is_empty()
        {
            // Each passage, then its sentences one by one (the gate's sharpest evidence), in one call.
            let mut inputs: Vec<String> = staged
                .iter()
                .map(|c| otoq_core::embed::passage_input(&doc.title, &c.heading_path, &c.text))
                .collect();
            let sentences: Vec<Vec<String>> = staged
                .iter()
                .map(|c| otoq_core::retrieval::sentences::embeddable(&c.text))
                .collect();
            inputs.extend(sentences.iter().flatten().cloned());
            let mut vectors = e.embed(&inputs).await.context("embedding")?.into_iter();
            for c in staged.iter_mut() {
                c.embedding = vectors.next();
            }
            for (c, s) in staged.iter_mut().zip(&sentences) {
                c.sentence_embeddings = vectors.by_ref().take(s.len()).collect();
            }
        }
        let input = DocInput {
            key,
            title: doc.title.clone(),
            url,
            partial: doc.partial.clone(),
            hash,
        };
        let n = store::stage(
            &ctx.db,
            source,
            run,
            input,
            staged,
            embedder.map(|e| e.id()),
        )
        .await?;
        Ok(n)
    }

    async fn text(&self, p: &mut Progress) -> anyhow::Result<Result<(), SourceFailed>> {
        let source = self.source;
        let content = source
            .config
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        let doc = extract::text::extract_text(content, &source.name);
        p.found = 1;
        p.chunks += self.ingest("text".into(), None, doc, false).await? as i32;
        p.done = 1;
        Ok(Ok(()))
    }

    async fn qa(&self, p: &mut Progress) -> anyhow::Result<Result<(), SourceFailed>> {
        let (ctx, source) = (self.ctx, self.source);
        let pairs: Vec<QaPair> =
            serde_json::from_value(source.config.get("pairs").cloned().unwrap_or_default())
                .context("stored Q&A pairs")?;
        p.found = pairs.len() as i32;
        for (i, pair) in pairs.into_iter().enumerate() {
            let doc = ExtractedDoc {
                title: pair.question.clone(),
                sections: vec![Section {
                    heading_path: vec![],
                    text: format!("Q: {}\nA: {}", pair.question, pair.answer),
                }],
                partial: None,
            };
            p.chunks += self.ingest(format!("qa:{i}"), None, doc, true).await? as i32;
            p.done += 1;
            report(ctx, source.id, p, false).await?;
        }
        Ok(Ok(()))
    }

    async fn file(&self, p: &mut Progress) -> anyhow::Result<Result<(), SourceFailed>> {
        let (ctx, source) = (self.ctx, self.source);
        // Wait for a reader before loading the file, so queued jobs hold no file in memory.
        let slot = extract::isolated::reserve(&ctx.config.extract).await;
        let file = source_files::Entity::find_by_id(source.id)
            .one(&ctx.db)
            .await?
            .context("the source's file is missing")?;
        p.found = 1;
        let (name, ctype) = (file.filename.clone(), file.content_type.clone());
        // The file is read in a limited child process: a hostile one fails only itself.
        let doc = match slot.extract(file.bytes, &name, ctype.as_deref()).await? {
            Ok(doc) => doc,
            Err(ExtractError(reason)) => {
                p.failed = 1;
                self.not_indexed("file", None, DocumentStatus::Failed, &reason)
                    .await?;
                return Ok(Err(SourceFailed(reason)));
            }
        };
        if doc.sections.iter().all(|s| s.text.trim().is_empty()) {
            p.failed = 1;
            let reason = "the file has no text to learn from";
            self.not_indexed("file", None, DocumentStatus::Failed, reason)
                .await?;
            return Ok(Err(SourceFailed(reason.into())));
        }
        p.chunks += self.ingest("file".into(), None, doc, false).await? as i32;
        p.done = 1;
        Ok(Ok(()))
    }

    async fn website(&self, p: &mut Progress) -> anyhow::Result<Result<(), SourceFailed>> {
        let (ctx, source) = (self.ctx, self.source);
        let settings: CrawlSettings =
            serde_json::from_value(source.config.clone()).context("stored crawl settings")?;
        let start = url::Url::parse(source.url.as_deref().unwrap_or_default())
            .context("stored source URL")?;
        let cfg = crawl_config(ctx, settings);
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let crawler = tokio::spawn(crawl::crawl(start, cfg, tx));
        // Pages wait until the whole site is known, so that what it repeats on many pages can be
        // left out of all of them; a site too large to hold streams on with what was learned.
        let mut repetition = Repetition::default();
        let (mut held, mut held_bytes) = (Vec::new(), 0);
        let mut learned: Option<Repeated> = None;
        let mut recorded = 0;
        while let Some(event) = rx.recv().await {
            match event {
                CrawlEvent::Discovered { total } => p.found = p.found.max(total as i32),
                CrawlEvent::Page(page) => {
                    p.done += 1;
                    if let Some(repeated) = &learned {
                        self.page(page, repeated, p).await?;
                    } else {
                        repetition.add(page.url.as_str(), &page.lines);
                        held_bytes += page
                            .doc
                            .sections
                            .iter()
                            .map(|s| s.text.len())
                            .sum::<usize>();
                        held.push(page);
                        if held_bytes > SITE_HELD_BYTES {
                            let repeated = repetition.repeated();
                            for page in std::mem::take(&mut held) {
                                self.page(page, &repeated, p).await?;
                            }
                            learned = Some(repeated);
                        }
                    }
                }
                CrawlEvent::Failed { url, reason } => {
                    tracing::debug!(%url, %reason, "page failed");
                    p.failed += 1;
                    recorded += 1;
                    if recorded <= outcomes::MAX_RECORDED {
                        let url = url.to_string();
                        self.not_indexed(&url, Some(&url), DocumentStatus::Failed, &reason)
                            .await?;
                    }
                }
                CrawlEvent::Skipped { url, reason } => {
                    recorded += 1;
                    if recorded <= outcomes::MAX_RECORDED {
                        let url = url.to_string();
                        self.not_indexed(&url, Some(&url), DocumentStatus::Skipped, &reason)
                            .await?;
                    }
                }
            }
            report(ctx, source.id, p, false).await?;
        }
        let summary = match crawler.await.context("crawler task")? {
            Ok(summary) => summary,
            Err(e) => return Ok(Err(SourceFailed(e.to_string()))),
        };
        let repeated = learned.unwrap_or_else(|| repetition.repeated());
        tracing::debug!(
            lines = repeated.len(),
            "text repeated across the site left out"
        );
        for page in held {
            self.page(page, &repeated, p).await?;
        }
        report(ctx, source.id, p, true).await?;
        p.found = p.found.max(p.done + p.failed);
        if p.done == 0 {
            let why = if summary.failed > 0 {
                "no page of the site could be read"
            } else {
                "the site has no pages with text"
            };
            return Ok(Err(SourceFailed(why.into())));
        }
        Ok(Ok(()))
    }
}

impl Run<'_> {
    /// Records why a page or file of this run was not indexed.
    async fn not_indexed(
        &self,
        key: &str,
        url: Option<&str>,
        status: DocumentStatus,
        reason: &str,
    ) -> anyhow::Result<()> {
        let item = NotIndexed {
            key: key.to_string(),
            url: url.map(str::to_string),
            status,
            reason: reason.to_string(),
        };
        outcomes::record(&self.ctx.db, self.source, self.id, item).await?;
        Ok(())
    }

    /// Ingests one crawled page (already counted as done) without the text its site repeats.
    async fn page(
        &self,
        mut page: CrawledPage,
        repeated: &Repeated,
        p: &mut Progress,
    ) -> anyhow::Result<()> {
        let url = page.url.to_string();
        repeated.strip(&url, &mut page.doc, &page.lines);
        if !page.doc.sections.is_empty() {
            p.chunks += self.ingest(url.clone(), Some(url), page.doc, false).await? as i32;
        }
        report(self.ctx, self.source.id, p, false).await
    }
}

fn crawl_config(ctx: &Context, settings: CrawlSettings) -> CrawlConfig {
    CrawlConfig {
        max_pages: settings.max_pages as usize,
        max_depth: settings.max_depth as usize,
        concurrency: ctx.config.crawl.concurrency,
        delay: ctx.config.crawl.delay,
        guard: otoq_core::net_guard::Guard {
            allow_private: ctx.config.allow_private_networks,
        },
        ..CrawlConfig::default()
    }
}

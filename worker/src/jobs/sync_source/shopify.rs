//! The `shopify` source: every active product of the shop becomes a document. The first sync
//! reads the whole catalog page by page; later syncs list ids and `updatedAt` only and read
//! just the products changed since the last sync (or not indexed yet). Either way the content
//! hash decides what is embedded again, and products gone from the shop leave the index.

use chrono::{DateTime, Duration, Utc};
use otoq_core::knowledge::live;
use otoq_core::shopify::ShopifyError;
use otoq_core::shopify::admin::Admin;
use otoq_core::shopify::shops;
use serde_json::{Value, json};

use super::{Progress, Run, SourceFailed, report};
use crate::shopify::{
    ID_PAGE_SIZE, PAGE_SIZE, admin, complete, product_doc, product_ids_query, products_by_id_query,
    products_query,
};

/// Products changed this long before the last sync are read again too (clock differences).
const CLOCK_MARGIN_MINUTES: i64 = 10;

/// A Shopify failure as the owner sees it, or a database error to retry.
pub(super) fn failure(e: ShopifyError) -> anyhow::Result<SourceFailed> {
    match e {
        ShopifyError::Internal(e) => Err(e),
        other => Ok(SourceFailed(other.to_string())),
    }
}

/// A page of a `products` connection: its nodes and the cursor of the next page.
fn page(data: &Value) -> (Vec<Value>, Option<String>) {
    let products = &data["products"];
    let nodes = products["nodes"].as_array().cloned().unwrap_or_default();
    let info = &products["pageInfo"];
    let next = match info["endCursor"].as_str() {
        Some(cursor) if info["hasNextPage"] == true => Some(cursor.to_string()),
        _ => None,
    };
    (nodes, next)
}

impl Run<'_> {
    pub(super) async fn shopify(
        &self,
        p: &mut Progress,
    ) -> anyhow::Result<Result<(), SourceFailed>> {
        let (ctx, source) = (self.ctx, self.source);
        let Some(shop) = shops::by_source(&ctx.db, source.id).await? else {
            return Ok(Err(SourceFailed(
                "no Shopify shop is installed for this source: install the app again".into(),
            )));
        };
        let mut admin = match admin(ctx, &shop).await {
            Ok(a) => a,
            Err(e) => return Ok(Err(failure(e)?)),
        };
        let since = source
            .last_synced_at
            .map(|t| t - Duration::minutes(CLOCK_MARGIN_MINUTES));
        let done = match since {
            None => self.whole_catalog(&mut admin, &shop.shop, p).await?,
            Some(since) => self.changed_since(&mut admin, &shop.shop, since, p).await?,
        };
        Ok(done.map_err(|e| SourceFailed(e.to_string())))
    }

    /// Reads every active product with all its fields.
    async fn whole_catalog(
        &self,
        admin: &mut Admin,
        shop: &str,
        p: &mut Progress,
    ) -> anyhow::Result<Result<(), ShopifyError>> {
        let query = products_query();
        let mut after: Option<String> = None;
        loop {
            let vars = json!({ "first": PAGE_SIZE, "after": after, "query": "status:active" });
            let data = match admin.query(&query, vars).await {
                Ok(d) => d,
                Err(ShopifyError::Internal(e)) => return Err(e),
                Err(e) => return Ok(Err(e)),
            };
            let (nodes, next) = page(&data);
            p.found += nodes.len() as i32;
            if let Err(e) = self.ingest_products(admin, shop, nodes, p).await? {
                return Ok(Err(e));
            }
            report(self.ctx, self.source.id, p, false).await?;
            match next {
                Some(cursor) => after = Some(cursor),
                None => return Ok(Ok(())),
            }
        }
    }

    /// Lists ids and `updatedAt`; reads only the products changed since `since` or not indexed.
    async fn changed_since(
        &self,
        admin: &mut Admin,
        shop: &str,
        since: DateTime<Utc>,
        p: &mut Progress,
    ) -> anyhow::Result<Result<(), ShopifyError>> {
        let (ctx, source) = (self.ctx, self.source);
        let mut after: Option<String> = None;
        let mut pending: Vec<String> = Vec::new();
        loop {
            let vars = json!({ "first": ID_PAGE_SIZE, "after": after, "query": "status:active" });
            let data = match admin.query(product_ids_query(), vars).await {
                Ok(d) => d,
                Err(ShopifyError::Internal(e)) => return Err(e),
                Err(e) => return Ok(Err(e)),
            };
            let (nodes, next) = page(&data);
            for node in nodes {
                let Some(id) = node["id"].as_str() else {
                    continue;
                };
                p.found += 1;
                let changed = node["updatedAt"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .is_none_or(|t| t.with_timezone(&Utc) > since);
                if !changed && live::mark_seen(&ctx.db, source.id, id, self.id).await? {
                    p.done += 1;
                    continue;
                }
                pending.push(id.to_string());
                if pending.len() >= PAGE_SIZE as usize {
                    if let Err(e) = self.read_by_id(admin, shop, &pending, p).await? {
                        return Ok(Err(e));
                    }
                    pending.clear();
                }
            }
            report(ctx, source.id, p, false).await?;
            match next {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
        if !pending.is_empty()
            && let Err(e) = self.read_by_id(admin, shop, &pending, p).await?
        {
            return Ok(Err(e));
        }
        Ok(Ok(()))
    }

    async fn read_by_id(
        &self,
        admin: &mut Admin,
        shop: &str,
        ids: &[String],
        p: &mut Progress,
    ) -> anyhow::Result<Result<(), ShopifyError>> {
        let data = match admin
            .query(&products_by_id_query(), json!({ "ids": ids }))
            .await
        {
            Ok(d) => d,
            Err(ShopifyError::Internal(e)) => return Err(e),
            Err(e) => return Ok(Err(e)),
        };
        let nodes: Vec<Value> = data["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| n.is_object())
            .cloned()
            .collect();
        self.ingest_products(admin, shop, nodes, p).await
    }

    /// Indexes `nodes`, each completed with the variants and media beyond its first page.
    async fn ingest_products(
        &self,
        admin: &mut Admin,
        shop: &str,
        nodes: Vec<Value>,
        p: &mut Progress,
    ) -> anyhow::Result<Result<(), ShopifyError>> {
        for mut node in nodes {
            match complete(admin, &mut node).await {
                Ok(()) => {}
                Err(ShopifyError::Internal(e)) => return Err(e),
                Err(e) => return Ok(Err(e)),
            }
            if let Some((key, url, doc)) = product_doc(shop, &node) {
                p.chunks += self.ingest(key, url, doc, false).await? as i32;
            }
            p.done += 1;
        }
        Ok(Ok(()))
    }
}

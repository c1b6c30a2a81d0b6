//! The `shopify` source: every active product of the shop, page by page, becomes a document;
//! unchanged products are not embedded again and products gone from the shop leave the index.

use otoq_core::shopify::ShopifyError;
use otoq_core::shopify::shops;
use serde_json::json;

use super::{Progress, Run, SourceFailed, report};
use crate::shopify::{PAGE_SIZE, admin, product_doc, products_query};

/// A Shopify failure as the owner sees it, or a database error to retry.
pub(super) fn failure(e: ShopifyError) -> anyhow::Result<SourceFailed> {
    match e {
        ShopifyError::Internal(e) => Err(e),
        other => Ok(SourceFailed(other.to_string())),
    }
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
        let query = products_query();
        let mut after: Option<String> = None;
        loop {
            let vars = json!({ "first": PAGE_SIZE, "after": after, "query": "status:active" });
            let data = match admin.query(&query, vars).await {
                Ok(d) => d,
                Err(e) => return Ok(Err(failure(e)?)),
            };
            let products = &data["products"];
            for node in products["nodes"].as_array().into_iter().flatten() {
                p.found += 1;
                if let Some((key, url, doc)) = product_doc(&shop.shop, node) {
                    p.chunks += self.ingest(key, url, doc, false).await? as i32;
                }
                p.done += 1;
            }
            report(ctx, source.id, p, false).await?;
            let page = &products["pageInfo"];
            match page["endCursor"].as_str() {
                Some(cursor) if page["hasNextPage"] == true => after = Some(cursor.to_string()),
                _ => break,
            }
        }
        Ok(Ok(()))
    }
}

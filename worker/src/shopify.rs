//! Shopify products as documents: the Admin GraphQL queries of the catalog and of one product,
//! and the text a product becomes (title, description, vendor, type, tags, prices, every
//! variant, images and the product page).

use otoq_core::knowledge::{ExtractedDoc, Section};
use otoq_core::shopify::ShopifyError;
use otoq_core::shopify::admin::Admin;
use otoq_entities::shopify_shops;
use serde_json::Value;

/// Shopify refuses a query whose requested cost is above this many points.
pub const MAX_QUERY_COST: u32 = 1_000;
/// Variants and media read with each product; a product with more is completed page by page.
pub const VARIANTS_PER_PRODUCT: u32 = 32;
pub const MEDIA_PER_PRODUCT: u32 = 10;
/// Variants or media per follow-up page of one product (cost 3 + 2 × this).
const NESTED_PAGE: u32 = 250;

const VARIANT_FIELDS: &str =
    "title sku price availableForSale inventoryQuantity selectedOptions { name value }";
const MEDIA_FIELDS: &str = "alt ... on MediaImage { image { url altText } }";

fn product_fields() -> String {
    format!(
        "id title handle descriptionHtml vendor productType tags status updatedAt onlineStoreUrl \
 priceRangeV2 {{ minVariantPrice {{ amount currencyCode }} maxVariantPrice {{ amount currencyCode }} }} \
 variants(first: {VARIANTS_PER_PRODUCT}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }} \
 media(first: {MEDIA_PER_PRODUCT}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {MEDIA_FIELDS} }} }}"
    )
}

/// The requested cost of one product as [`product_fields`] asks for it, by Shopify's rules
/// (an object 1 point, a connection 2 plus its size times one node; scalars and `pageInfo`
/// free): the product 1, `priceRangeV2` with its two prices 3, the variants (each with its
/// `selectedOptions` object) 2 + 2 × V, the media (each with its image) 2 + 2 × M.
pub const fn product_cost() -> u32 {
    1 + 3 + (2 + 2 * VARIANTS_PER_PRODUCT) + (2 + 2 * MEDIA_PER_PRODUCT)
}

/// Products per page (and per `nodes(ids:)` query): as many as keep the requested cost
/// (2 for the connection plus one product each) within [`MAX_QUERY_COST`].
pub const PAGE_SIZE: u32 = (MAX_QUERY_COST - 2) / product_cost();

const _: () = assert!(PAGE_SIZE >= 1 && 2 + PAGE_SIZE * product_cost() <= MAX_QUERY_COST);
const _: () = assert!(3 + 2 * NESTED_PAGE <= MAX_QUERY_COST);

/// One page of the shop's active products.
pub fn products_query() -> String {
    format!(
        "query Products($first: Int!, $after: String, $query: String) {{ products(first: $first, after: $after, query: $query) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {} }} }} }}",
        product_fields()
    )
}

/// Products listed for an incremental sync: ids and when each last changed.
pub const ID_PAGE_SIZE: u32 = 250;

/// One page of the shop's active products' ids and `updatedAt`.
pub fn product_ids_query() -> &'static str {
    "query ProductIds($first: Int!, $after: String, $query: String) { products(first: $first, after: $after, query: $query) { pageInfo { hasNextPage endCursor } nodes { id updatedAt } } }"
}

/// Several products by id.
pub fn products_by_id_query() -> String {
    format!(
        "query ProductsById($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Product {{ {} }} }} }}",
        product_fields()
    )
}

/// One product by id.
pub fn product_query() -> String {
    format!(
        "query Product($id: ID!) {{ product(id: $id) {{ {} }} }}",
        product_fields()
    )
}

/// Reads the variants and media of `product` beyond the first page, page by page, into it.
pub async fn complete(admin: &mut Admin, product: &mut Value) -> Result<(), ShopifyError> {
    let Some(id) = product["id"].as_str().map(str::to_string) else {
        return Ok(());
    };
    for (field, fields) in [("variants", VARIANT_FIELDS), ("media", MEDIA_FIELDS)] {
        let query = format!(
            "query More($id: ID!, $after: String) {{ product(id: $id) {{ {field}(first: {NESTED_PAGE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }} }}"
        );
        loop {
            let info = &product[field]["pageInfo"];
            let Some(after) = info["endCursor"].as_str().map(str::to_string) else {
                break;
            };
            if info["hasNextPage"] != true {
                break;
            }
            let data = admin
                .query(&query, serde_json::json!({ "id": id, "after": after }))
                .await?;
            let more = &data["product"][field];
            let nodes = more["nodes"].as_array().cloned().unwrap_or_default();
            if nodes.is_empty() && more["pageInfo"]["hasNextPage"] == true {
                break;
            }
            if let Some(list) = product[field]["nodes"].as_array_mut() {
                list.extend(nodes);
            }
            product[field]["pageInfo"] = more["pageInfo"].clone();
        }
    }
    Ok(())
}

/// A client of the shop's Admin API with a fresh token.
pub async fn admin(
    ctx: &otoq_core::Context,
    shop: &shopify_shops::Model,
) -> Result<Admin, ShopifyError> {
    let token = otoq_core::shopify::tokens::access_token(ctx, shop).await?;
    Admin::for_shop(ctx, shop, token)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("amount").and_then(text),
        _ => None,
    }
}

/// `89.0` → `89.00`; other text as it is.
fn money(amount: &str) -> String {
    match amount.parse::<f64>() {
        Ok(x) => format!("{x:.2}"),
        Err(_) => amount.to_string(),
    }
}

fn price_range(p: &Value) -> Option<String> {
    let range = &p["priceRangeV2"];
    let min = text(&range["minVariantPrice"]["amount"])?;
    let cur = text(&range["minVariantPrice"]["currencyCode"]).unwrap_or_default();
    let max = text(&range["maxVariantPrice"]["amount"]).unwrap_or_else(|| min.clone());
    let title = p["title"].as_str().unwrap_or("It");
    if money(&min) == money(&max) {
        Some(format!("The {title} costs {} {cur}.", money(&min)))
    } else {
        Some(format!(
            "The {title} costs from {} {cur} to {} {cur}, depending on the variant.",
            money(&min),
            money(&max)
        ))
    }
}

fn variant_line(v: &Value, currency: &str) -> String {
    let mut parts = vec![text(&v["title"]).unwrap_or_else(|| "Default".into())];
    if let Some(price) = text(&v["price"]) {
        parts.push(
            format!("price {} {currency}", money(&price))
                .trim()
                .to_string(),
        );
    }
    let options: Vec<String> = v["selectedOptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| Some(format!("{}: {}", text(&o["name"])?, text(&o["value"])?)))
        .collect();
    if !options.is_empty() {
        parts.push(format!("options {}", options.join(", ")));
    }
    if let Some(sku) = text(&v["sku"]) {
        parts.push(format!("SKU {sku}"));
    }
    let available = v["availableForSale"].as_bool().unwrap_or(false);
    parts.push(match (available, v["inventoryQuantity"].as_i64()) {
        (true, Some(q)) if q > 0 => format!("in stock ({q} available)"),
        (true, _) => "available".into(),
        (false, _) => "out of stock".into(),
    });
    format!("- {}.", parts.join("; "))
}

/// The product's page: its online store URL, else the shop's `/products/{handle}`.
pub fn product_url(shop: &str, p: &Value) -> Option<String> {
    text(&p["onlineStoreUrl"]).or_else(|| {
        let handle = text(&p["handle"])?;
        Some(format!("https://{shop}/products/{handle}"))
    })
}

/// The document of an active product: its key (the product's global id), URL and text.
/// `None` for a product that is not active (draft, archived): it must not be answered from.
pub fn product_doc(shop: &str, p: &Value) -> Option<(String, Option<String>, ExtractedDoc)> {
    let key = text(&p["id"])?;
    if p["status"].as_str().is_some_and(|s| s != "ACTIVE") {
        return None;
    }
    let title = text(&p["title"]).unwrap_or_else(|| "Product".into());
    let url = product_url(shop, p);
    let currency = text(&p["priceRangeV2"]["minVariantPrice"]["currencyCode"]).unwrap_or_default();
    let mut sections = Vec::new();
    let description = text(&p["descriptionHtml"])
        .map(|html| {
            let base = url::Url::parse(&format!("https://{shop}/")).expect("shop URL");
            let page = crate::extract::html::extract_html(&html, &base);
            page.doc
                .sections
                .iter()
                .map(|s| s.text.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n")
        })
        .unwrap_or_default();
    let mut overview = vec![format!("{title}.")];
    if !description.is_empty() {
        overview.push(description);
    }
    sections.push(Section {
        heading_path: vec![],
        text: overview.join("\n\n"),
    });
    let mut details = Vec::new();
    if let Some(line) = price_range(p) {
        details.push(line);
    }
    if let Some(v) = text(&p["vendor"]) {
        details.push(format!("Vendor: {v}."));
    }
    if let Some(t) = text(&p["productType"]) {
        details.push(format!("Product type: {t}."));
    }
    let tags: Vec<String> = p["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(text)
        .collect();
    if !tags.is_empty() {
        details.push(format!("Tags: {}.", tags.join(", ")));
    }
    if let Some(u) = &url {
        details.push(format!("Product page: {u}"));
    }
    sections.push(Section {
        heading_path: vec!["Details".into()],
        text: details.join("\n"),
    });
    let variants: Vec<String> = p["variants"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| variant_line(v, &currency))
        .collect();
    if !variants.is_empty() {
        sections.push(Section {
            heading_path: vec!["Variants".into()],
            text: format!("Variants of the {title}:\n{}", variants.join("\n")),
        });
    }
    let images: Vec<String> = p["media"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let img = &m["image"];
            let url = text(&img["url"])?;
            match text(&img["altText"]).or_else(|| text(&m["alt"])) {
                Some(alt) => Some(format!("- {url} ({alt})")),
                None => Some(format!("- {url}")),
            }
        })
        .collect();
    if !images.is_empty() {
        sections.push(Section {
            heading_path: vec!["Images".into()],
            text: format!("Images of the {title}:\n{}", images.join("\n")),
        });
    }
    let partial = (p["variants"]["pageInfo"]["hasNextPage"] == true)
        .then(|| "only the first 64 variants of this product are indexed".to_string());
    Some((
        key,
        url,
        ExtractedDoc {
            title,
            sections,
            partial,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_product_becomes_a_document() {
        let p = json!({
            "id": "gid://shopify/Product/1", "title": "Trail Pack", "handle": "trail-pack",
            "descriptionHtml": "<p>A <b>28 litre</b> pack.</p><ul><li>Waterproof</li></ul>",
            "vendor": "Acme", "productType": "Backpacks", "tags": ["hiking", "bags"],
            "status": "ACTIVE", "onlineStoreUrl": null,
            "priceRangeV2": {"minVariantPrice": {"amount": "89.0", "currencyCode": "EUR"},
                             "maxVariantPrice": {"amount": "99.5", "currencyCode": "EUR"}},
            "variants": {"pageInfo": {"hasNextPage": false}, "nodes": [
                {"title": "Blue", "sku": "TP-B", "price": "89.00", "availableForSale": true,
                 "inventoryQuantity": 4, "selectedOptions": [{"name": "Color", "value": "Blue"}]},
                {"title": "Red", "sku": "TP-R", "price": "99.50", "availableForSale": false,
                 "inventoryQuantity": 0, "selectedOptions": [{"name": "Color", "value": "Red"}]}]},
            "media": {"nodes": [{"alt": "front", "image": {"url": "https://cdn/x.jpg", "altText": "Front view"}}]}
        });
        let (key, url, doc) = product_doc("demo.myshopify.com", &p).unwrap();
        assert_eq!(key, "gid://shopify/Product/1");
        assert_eq!(
            url.as_deref(),
            Some("https://demo.myshopify.com/products/trail-pack")
        );
        let all: String = doc.sections.iter().map(|s| s.text.clone() + "\n").collect();
        for needle in [
            "28 litre",
            "Waterproof",
            "from 89.00 EUR to 99.50 EUR",
            "Vendor: Acme",
            "Product type: Backpacks",
            "Tags: hiking, bags",
            "Blue; price 89.00 EUR; options Color: Blue; SKU TP-B; in stock (4 available)",
            "Red; price 99.50 EUR; options Color: Red; SKU TP-R; out of stock",
            "https://cdn/x.jpg (Front view)",
            "Product page: https://demo.myshopify.com/products/trail-pack",
        ] {
            assert!(all.contains(needle), "{needle} in {all}");
        }
        assert!(!all.contains("<p>"));
        let mut draft = p.clone();
        draft["status"] = json!("DRAFT");
        assert!(product_doc("demo.myshopify.com", &draft).is_none());
    }
}

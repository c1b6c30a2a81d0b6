//! Shopify: the OAuth install (authorization-code grant with expiring offline tokens), the
//! Admin GraphQL client the catalog sync uses, and the webhooks Shopify sends.

pub mod admin;
pub mod hmac;
pub mod oauth;
pub mod shops;
pub mod tokens;
pub mod webhooks;

use std::sync::LazyLock;

/// The Admin API version every request uses (the current stable one).
pub const API_VERSION: &str = "2026-10";

/// Scopes asked for when `OTOQ_SHOPIFY_SCOPES` is not set.
pub const DEFAULT_SCOPES: &str = "read_products";

/// The Shopify app's credentials and settings.
#[derive(Clone, Debug)]
pub struct ShopifyConfig {
    /// The app's client id (`OTOQ_SHOPIFY_API_KEY`).
    pub api_key: String,
    /// The app's client secret (`OTOQ_SHOPIFY_API_SECRET`): signs OAuth redirects and webhooks.
    pub api_secret: String,
    /// Comma-separated scopes asked for at install (`OTOQ_SHOPIFY_SCOPES`, default `read_products`).
    pub scopes: String,
    /// Replaces `https://{shop}` in every Admin URL, `{shop}` standing for the shop's domain
    /// (`OTOQ_SHOPIFY_ADMIN_BASE_URL`; for tests against a local fake only).
    pub admin_base_url: Option<String>,
}

impl ShopifyConfig {
    /// The configuration, or `None` when the API key or secret is missing.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        Some(ShopifyConfig {
            api_key: get("OTOQ_SHOPIFY_API_KEY")?.trim().to_string(),
            api_secret: get("OTOQ_SHOPIFY_API_SECRET")?.trim().to_string(),
            scopes: get("OTOQ_SHOPIFY_SCOPES")
                .map(|s| s.split(',').map(str::trim).collect::<Vec<_>>().join(","))
                .unwrap_or_else(|| DEFAULT_SCOPES.to_string()),
            admin_base_url: get("OTOQ_SHOPIFY_ADMIN_BASE_URL")
                .map(|u| u.trim().trim_end_matches('/').to_string()),
        })
    }

    /// The base of the shop's Admin URLs: `https://{shop}`, or the configured override.
    pub fn admin_base(&self, shop: &str) -> String {
        match &self.admin_base_url {
            Some(base) => base.replace("{shop}", shop),
            None => format!("https://{shop}"),
        }
    }

    /// The shop's Admin GraphQL endpoint.
    pub fn graphql_url(&self, shop: &str) -> String {
        format!(
            "{}/admin/api/{API_VERSION}/graphql.json",
            self.admin_base(shop)
        )
    }
}

static SHOP_RE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$").expect("valid regex")
});

/// Whether `shop` is a shop's own domain (`name.myshopify.com`), the only host we talk to.
pub fn valid_shop(shop: &str) -> bool {
    shop.len() <= 255 && SHOP_RE.is_match(shop)
}

/// What can go wrong in the Shopify flows, mapped by the API to a status and a code.
#[derive(Debug, thiserror::Error)]
pub enum ShopifyError {
    /// The app's credentials are not configured.
    #[error("{0}")]
    NotConfigured(String),
    /// A bad or missing parameter, an unknown, used or expired state, an old timestamp.
    #[error("{0}")]
    Invalid(String),
    /// A signature that does not verify.
    #[error("{0}")]
    Forged(String),
    /// No such agent or shop in this account.
    #[error("{0}")]
    NotFound(String),
    /// Shopify answered with an error, or could not be reached.
    #[error("{0}")]
    Upstream(String),
    /// Anything else (a database failure): logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for ShopifyError {
    fn from(e: sea_orm::DbErr) -> Self {
        ShopifyError::Internal(e.into())
    }
}

impl From<crate::Error> for ShopifyError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::NotFound(what) => ShopifyError::NotFound(format!("{what} not found")),
            crate::Error::Validation { message, .. } => ShopifyError::Invalid(message),
            other => ShopifyError::Internal(anyhow::anyhow!(other)),
        }
    }
}

/// The app's configuration, or the error explaining how to set it.
pub fn config(ctx: &crate::Context) -> Result<&ShopifyConfig, ShopifyError> {
    ctx.config.shopify.as_ref().ok_or_else(|| {
        ShopifyError::NotConfigured(
            "Shopify is not configured on this server: set OTOQ_SHOPIFY_API_KEY and \
             OTOQ_SHOPIFY_API_SECRET to the app's client id and secret"
                .into(),
        )
    })
}

/// The shop's product id as a GraphQL global id (`gid://shopify/Product/123`).
pub fn product_gid(id: &str) -> String {
    if id.starts_with("gid://") {
        id.to_string()
    } else {
        format!("gid://shopify/Product/{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domains() {
        for ok in [
            "demo.myshopify.com",
            "a-b-1.myshopify.com",
            "X9.myshopify.com",
        ] {
            assert!(valid_shop(ok), "{ok}");
        }
        for bad in [
            "-demo.myshopify.com",
            "demo.myshopify.com.evil.com",
            "demo.example.com",
            "de mo.myshopify.com",
            "demo.myshopify.com/",
            "demo_x.myshopify.com",
            ".myshopify.com",
            "",
        ] {
            assert!(!valid_shop(bad), "{bad}");
        }
    }

    #[test]
    fn product_ids() {
        assert_eq!(product_gid("12"), "gid://shopify/Product/12");
        assert_eq!(
            product_gid("gid://shopify/Product/12"),
            "gid://shopify/Product/12"
        );
    }
}

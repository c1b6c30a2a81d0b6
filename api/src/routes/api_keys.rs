//! `/api-keys`: list, create and revoke the account's API keys.

use otoq_core::Context;
use otoq_core::api_keys;
use otoq_entities::api_keys::Model;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::envelope::{self, Page};
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::text::NonBlankText;
use crate::timestamp::Timestamp;

/// An API key, without its secret.
#[derive(Object)]
pub struct ApiKeyInfo {
    pub id: Uuid,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl From<Model> for ApiKeyInfo {
    fn from(m: Model) -> Self {
        ApiKeyInfo {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            created_at: m.created_at.into(),
            last_used_at: m.last_used_at.map(Into::into),
        }
    }
}

/// A key just created: the only time `key` is shown.
#[derive(Object)]
pub struct CreatedApiKey {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// The secret key. Store it now: it cannot be shown again.
    pub key: String,
}

/// A new key.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CreateApiKey {
    /// 1–100 characters, to tell keys apart.
    pub name: NonBlankText<100>,
}

/// The key was created.
#[derive(ApiResponse)]
pub enum Created {
    #[oai(status = 201)]
    Created(Json<envelope::Data<CreatedApiKey>>),
}

#[derive(Default)]
pub struct ApiKeysApi;

#[OpenApi(prefix_path = "/api-keys", tag = "Tag::ApiKeys")]
impl ApiKeysApi {
    /// List API keys
    ///
    /// Active keys of the account, newest first. Secrets are never shown.
    #[oai(path = "/", method = "get", operation_id = "listApiKeys")]
    async fn list(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<ApiKeyInfo>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let (rows, total) =
            api_keys::list(&ctx.db, auth.0.account_id, page.limit, page.offset).await?;
        Ok(envelope::list(
            rows.into_iter().map(ApiKeyInfo::from).collect(),
            total,
            page,
        ))
    }

    /// Create an API key
    ///
    /// The response holds the secret key; it is shown this once.
    #[oai(path = "/", method = "post", operation_id = "createApiKey")]
    async fn create(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        body: Json<CreateApiKey>,
    ) -> Result<Created, ApiError> {
        let name = api_keys::validate_name(&body.0.name)?;
        let new = api_keys::insert(&ctx.db, auth.0.account_id, &name).await?;
        let m = new.model;
        Ok(Created::Created(envelope::data(CreatedApiKey {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            created_at: m.created_at.into(),
            last_used_at: m.last_used_at.map(Into::into),
            key: new.plaintext,
        })))
    }

    /// Revoke an API key
    ///
    /// Takes effect at once on every server.
    #[oai(path = "/:id", method = "delete", operation_id = "revokeApiKey")]
    async fn revoke(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Success>, ApiError> {
        api_keys::revoke(&ctx.db, &ctx.bus, auth.0.account_id, id.0).await?;
        Ok(envelope::success())
    }
}

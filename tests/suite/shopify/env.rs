//! The app configured for the fake Shopify, and the steps the Shopify tests share.

use otoq_entities::{chunks, documents, shopify_shops};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::support::shopify::{CLIENT_ID, CLIENT_SECRET, FakeShopify, SHOP, product};
use crate::support::{Backend, Reply, TestApp, spawn_app_with};

/// Six active products and a draft.
pub fn catalog() -> Vec<Value> {
    let mut draft = product(7, "Prototype Stove", "999.00", "<p>Not for sale yet.</p>");
    draft["status"] = json!("DRAFT");
    vec![
        product(
            1,
            "Trailblazer Backpack",
            "89.00",
            "<p>A <strong>28 litre</strong> waterproof backpack for day hikes.</p>",
        ),
        product(
            2,
            "Summit Tent",
            "249.00",
            "<p>A two-person tent weighing 2.1 kg.</p>",
        ),
        product(
            3,
            "Alpine Sleeping Bag",
            "129.00",
            "<p>Comfortable down to minus 5 degrees.</p>",
        ),
        product(
            4,
            "Ridge Trekking Poles",
            "59.00",
            "<p>Carbon poles that fold to 38 cm.</p>",
        ),
        product(
            5,
            "Canyon Water Bottle",
            "19.50",
            "<p>Keeps drinks cold for 24 hours.</p>",
        ),
        product(
            6,
            "Glacier Down Jacket",
            "199.00",
            "<p>A light jacket with 800-fill down.</p>",
        ),
        draft,
    ]
}

/// A running app configured for the fake, with an owner and an agent.
pub struct Env {
    pub app: TestApp,
    pub fake: FakeShopify,
    pub key: String,
    pub agent_id: String,
}

pub async fn setup(b: Backend) -> Env {
    setup_with(b, false).await
}

/// Like [`setup`]; `embed` turns the offline embedder on.
pub async fn setup_with(b: Backend, embed: bool) -> Env {
    let fake = FakeShopify::start(catalog(), 2).await;
    let admin = fake.admin_base();
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_SHOPIFY_API_KEY", CLIENT_ID)
            .set("OTOQ_SHOPIFY_API_SECRET", CLIENT_SECRET)
            .set("OTOQ_SHOPIFY_ADMIN_BASE_URL", admin);
        if embed {
            e.with_embedder();
        }
    })
    .await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Store helper").await;
    Env {
        agent_id: agent["id"].as_str().unwrap().to_string(),
        app,
        fake,
        key,
    }
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Env {
    /// `GET /shopify/install` as the owner; the reply and its `Location`.
    pub async fn start_install(
        &self,
        shop: &str,
        agent_id: &str,
        key: &str,
    ) -> (u16, String, Value) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("shop", shop)
            .append_pair("agent_id", agent_id)
            .finish();
        let resp = no_redirects()
            .get(format!("{}/shopify/install?{query}", self.app.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = Reply::from(resp).await.body;
        (status, location, body)
    }

    /// Follows the authorize URL on the fake: the signed query Shopify sends back.
    pub async fn authorize(&self, location: &str) -> String {
        let resp = no_redirects().get(location).send().await.unwrap();
        assert_eq!(resp.status(), 302);
        let back = resp.headers()["location"].to_str().unwrap().to_string();
        back.split_once('?').unwrap().1.to_string()
    }

    pub async fn callback(&self, query: &str) -> Reply {
        let resp = no_redirects()
            .get(format!("{}/shopify/callback?{query}", self.app.base))
            .send()
            .await
            .unwrap();
        Reply::from(resp).await
    }

    /// The whole install; returns the new source's id once its first sync is ready.
    pub async fn install(&self) -> String {
        let (status, location, body) = self.start_install(SHOP, &self.agent_id, &self.key).await;
        assert_eq!(status, 302, "{body}");
        let query = self.authorize(&location).await;
        let r = self.callback(&query).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let source_id = r.body["data"]["source_id"].as_str().unwrap().to_string();
        let s = self.app.settled_source(&self.key, &source_id).await;
        assert_eq!(s["status"], "ready", "{s}");
        source_id
    }

    pub async fn shop_row(&self) -> Option<shopify_shops::Model> {
        shopify_shops::Entity::find()
            .filter(shopify_shops::Column::Shop.eq(SHOP))
            .one(&self.app.ctx().db)
            .await
            .unwrap()
    }

    /// (document key, chunk id, text) of the source's active chunks.
    pub async fn active_chunks(&self, source_id: &str) -> Vec<(String, String, String)> {
        let sid: uuid::Uuid = source_id.parse().unwrap();
        let db = &self.app.ctx().db;
        let docs = documents::Entity::find()
            .filter(documents::Column::SourceId.eq(sid))
            .all(db)
            .await
            .unwrap();
        let rows = chunks::Entity::find()
            .filter(chunks::Column::SourceId.eq(sid))
            .filter(chunks::Column::Active.eq(true))
            .order_by_asc(chunks::Column::Id)
            .all(db)
            .await
            .unwrap();
        rows.into_iter()
            .map(|c| {
                let key = docs
                    .iter()
                    .find(|d| d.id == c.document_id)
                    .map(|d| d.key.clone())
                    .unwrap_or_default();
                (key, c.id.to_string(), c.text)
            })
            .collect()
    }

    pub async fn doc_keys(&self, source_id: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .active_chunks(source_id)
            .await
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Sends a webhook signed with `secret`.
    pub async fn webhook(&self, topic: &str, body: &Value, secret: &str, id: &str) -> Reply {
        let raw = body.to_string();
        let sig = otoq_core::shopify::hmac::sign_body(secret, raw.as_bytes());
        let resp = self
            .app
            .client
            .post(format!("{}/shopify/webhooks", self.app.base))
            .header("content-type", "application/json")
            .header("x-shopify-hmac-sha256", sig)
            .header("x-shopify-topic", topic)
            .header("x-shopify-shop-domain", SHOP)
            .header("x-shopify-api-version", "2026-10")
            .header("x-shopify-webhook-id", id)
            .body(raw)
            .send()
            .await
            .unwrap();
        Reply::from(resp).await
    }

    pub async fn resync(&self, source_id: &str) -> Value {
        let r = self
            .app
            .post(
                &format!("/api/v1/sources/{source_id}/resync"),
                &self.key,
                json!({}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        self.app.settled_source(&self.key, source_id).await
    }
}

pub fn gid(n: u64) -> String {
    format!("gid://shopify/Product/{n}")
}

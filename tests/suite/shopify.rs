//! Shopify: install (OAuth with a signed callback and a single-use state) → tokens sealed at
//! rest → catalog synced over several throttled GraphQL pages → chat answers a price question
//! citing the product; forged and replayed requests refused; live product webhooks; uninstall,
//! redact and token refresh — all against a local fake Shopify. Shopify's own Node library
//! checks our HMACs.

use chrono::{Duration, Utc};
use otoq_entities::{chunks, documents, shopify_shops, shopify_states};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::shopify::{
    CLIENT_ID, CLIENT_SECRET, FakeShopify, SHOP, Throttle, product, signed_query,
};
use crate::support::{Backend, Reply, TestApp, eventually, spawn_app_with};

both_backends!(
    shopify_install_sync_and_chat,
    shopify_callback_refuses_forgeries,
    shopify_product_webhooks_reindex_one_product,
    shopify_uninstall_stops_syncing_and_redact_deletes,
    shopify_token_is_refreshed_before_expiry,
);

/// Six active products and a draft.
fn catalog() -> Vec<Value> {
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
struct Env {
    app: TestApp,
    fake: FakeShopify,
    key: String,
    agent_id: String,
}

async fn setup(b: Backend) -> Env {
    setup_with(b, false).await
}

/// Like [`setup`]; `embed` turns the offline embedder on.
async fn setup_with(b: Backend, embed: bool) -> Env {
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

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Env {
    /// `GET /shopify/install` as the owner; the reply and its `Location`.
    async fn start_install(&self, shop: &str, agent_id: &str, key: &str) -> (u16, String, Value) {
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
    async fn authorize(&self, location: &str) -> String {
        let resp = no_redirects().get(location).send().await.unwrap();
        assert_eq!(resp.status(), 302);
        let back = resp.headers()["location"].to_str().unwrap().to_string();
        back.split_once('?').unwrap().1.to_string()
    }

    async fn callback(&self, query: &str) -> Reply {
        let resp = no_redirects()
            .get(format!("{}/shopify/callback?{query}", self.app.base))
            .send()
            .await
            .unwrap();
        Reply::from(resp).await
    }

    /// The whole install; returns the new source's id once its first sync is ready.
    async fn install(&self) -> String {
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

    async fn shop_row(&self) -> Option<shopify_shops::Model> {
        shopify_shops::Entity::find()
            .filter(shopify_shops::Column::Shop.eq(SHOP))
            .one(&self.app.ctx().db)
            .await
            .unwrap()
    }

    /// (document key, chunk id, text) of the source's active chunks.
    async fn active_chunks(&self, source_id: &str) -> Vec<(String, String, String)> {
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

    async fn doc_keys(&self, source_id: &str) -> Vec<String> {
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
    async fn webhook(&self, topic: &str, body: &Value, secret: &str, id: &str) -> Reply {
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

    async fn resync(&self, source_id: &str) -> Value {
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

fn gid(n: u64) -> String {
    format!("gid://shopify/Product/{n}")
}

async fn shopify_install_sync_and_chat(b: Backend) {
    // Products are embedded like any source: the chat below searches vectors and keywords.
    let env = setup_with(b, true).await;
    // One page is answered 429 with Retry-After, another with a THROTTLED GraphQL error.
    env.fake.throttle([Throttle::Http429(1), Throttle::Graphql]);
    let (status, location, body) = env.start_install(SHOP, &env.agent_id, &env.key).await;
    assert_eq!(status, 302, "{body}");
    let auth = url::Url::parse(&location).unwrap();
    assert_eq!(
        auth.path(),
        format!("/{SHOP}/admin/oauth/authorize"),
        "{location}"
    );
    let q: std::collections::HashMap<String, String> = auth.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["scope"], "read_products");
    assert!(
        q["redirect_uri"].ends_with("/shopify/callback"),
        "{location}"
    );
    assert!(q["state"].len() >= 32);

    let query = env.authorize(&location).await;
    let r = env.callback(&query).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["shop"], SHOP);
    let source_id = r.body["data"]["source_id"].as_str().unwrap().to_string();
    // The code was exchanged for an expiring offline token.
    let exchange = &env.fake.token_requests()[0];
    assert_eq!(exchange["expiring"], 1, "{exchange}");

    // Tokens are stored sealed: the row holds ciphertext, which opens to the issued token.
    let row = env.shop_row().await.expect("shop stored");
    let issued = env.fake.issued_tokens()[0].clone();
    let sealed = row.access_token_enc.clone().unwrap();
    assert!(
        !sealed.contains(&issued) && sealed.starts_with("v1:"),
        "{sealed}"
    );
    let sbox = env.app.ctx().secret_box().await.unwrap();
    assert_eq!(sbox.open(&sealed).unwrap(), issued);
    let refresh = row.refresh_token_enc.clone().unwrap();
    assert!(!refresh.contains("shprt_"));
    assert!(row.access_token_expires_at.unwrap() > Utc::now() + Duration::minutes(50));

    let s = env.app.settled_source(&env.key, &source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    assert_eq!(s["type"], "shopify", "{s}");
    // Six active products over three pages, after one 429 and one THROTTLED answer.
    let calls = env.fake.graphql_calls();
    assert_eq!(calls.iter().filter(|c| c.throttled).count(), 2);
    // Retry-After: 1 was waited; the THROTTLED answer (50 of 100 points, 100/s) waited ~0.5 s.
    assert!(
        calls[1].at - calls[0].at >= std::time::Duration::from_millis(950),
        "{calls:?}"
    );
    assert!(
        calls[2].at - calls[1].at >= std::time::Duration::from_millis(450),
        "{calls:?}"
    );
    let served: Vec<&crate::support::shopify::GraphqlCall> = calls
        .iter()
        .filter(|c| c.status == 200 && !c.throttled)
        .collect();
    assert_eq!(served.len(), 3, "{calls:?}");
    assert_eq!(served[1].variables["after"], "cursor:2");
    assert_eq!(served[2].variables["after"], "cursor:4");
    assert!(served.iter().all(|c| c.token == issued && c.shop == SHOP));
    // The draft is not indexed.
    let keys = env.doc_keys(&source_id).await;
    assert_eq!(keys, (1..=6).map(gid).collect::<Vec<_>>());
    let sid: uuid::Uuid = source_id.parse().unwrap();
    let embedded = chunks::Entity::find()
        .filter(chunks::Column::SourceId.eq(sid))
        .filter(chunks::Column::Active.eq(true))
        .all(&env.app.ctx().db)
        .await
        .unwrap();
    assert!(
        embedded.iter().all(|c| c.embedding.is_some()),
        "every chunk is embedded"
    );

    let r = env
        .app
        .post(
            "/api/v1/chat",
            &env.key,
            json!({"agent_id": env.agent_id, "message": "How much does the Trailblazer Backpack cost?"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert!(d["response"].as_str().unwrap().contains("89.00"), "{d}");
    assert_eq!(d["sources"][0]["title"], "Trailblazer Backpack", "{d}");
    assert_eq!(
        d["sources"][0]["url"],
        format!("https://{SHOP}/products/trailblazer-backpack")
    );

    // A re-sync lists ids and `updatedAt` only, reads just the product that changed, embeds
    // nothing else again, and a product removed from the shop leaves.
    let before = env.active_chunks(&source_id).await;
    let calls = env.fake.graphql_calls().len();
    let mut products = catalog();
    products.remove(4);
    products[2]["updatedAt"] = json!((Utc::now() + Duration::seconds(1)).to_rfc3339());
    products[2]["priceRangeV2"]["minVariantPrice"]["amount"] = json!("119.00");
    products[2]["priceRangeV2"]["maxVariantPrice"]["amount"] = json!("119.00");
    env.fake.set_products(products);
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    let resync_calls = env.fake.graphql_calls()[calls..].to_vec();
    assert!(
        resync_calls
            .iter()
            .all(|c| !c.query.contains("descriptionHtml") || c.query.contains("nodes(ids:")),
        "no full listing: {resync_calls:?}"
    );
    let reads: Vec<&Value> = resync_calls
        .iter()
        .filter(|c| c.query.contains("nodes(ids:"))
        .map(|c| &c.variables["ids"])
        .collect();
    assert_eq!(
        reads,
        vec![&json!([gid(3)])],
        "only the changed product is read"
    );
    let after = env.active_chunks(&source_id).await;
    let others = |v: &[(String, String, String)]| -> Vec<(String, String, String)> {
        let mut o: Vec<_> = v
            .iter()
            .filter(|(k, _, _)| *k != gid(3) && *k != gid(5))
            .cloned()
            .collect();
        o.sort();
        o
    };
    assert_eq!(
        others(&after),
        others(&before),
        "unchanged products keep their chunks"
    );
    assert!(
        after
            .iter()
            .any(|(k, _, t)| *k == gid(3) && t.contains("119.00"))
    );
    let keys = env.doc_keys(&source_id).await;
    assert_eq!(keys, [1, 2, 3, 4, 6].map(gid).to_vec());
}

async fn shopify_callback_refuses_forgeries(b: Backend) {
    let env = setup(b).await;
    let no_state_left = || async {
        shopify_states::Entity::find()
            .all(&env.app.ctx().db)
            .await
            .unwrap()
            .len()
    };
    // The install: a bad shop domain, no key, another account's agent.
    for bad in [
        "evil.example.com",
        "demo.myshopify.com.evil.com",
        "-x.myshopify.com",
    ] {
        let (status, _, body) = env.start_install(bad, &env.agent_id, &env.key).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "validation_error");
    }
    let r = no_redirects()
        .get(format!(
            "{}/shopify/install?shop={SHOP}&agent_id={}",
            env.app.base, env.agent_id
        ))
        .send()
        .await
        .unwrap();
    Reply::from(r).await.assert_error(401, "unauthorized");
    let other = env.app.pro_key().await;
    let (status, _, body) = env.start_install(SHOP, &env.agent_id, &other).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(no_state_left().await, 0);

    let (_, location, _) = env.start_install(SHOP, &env.agent_id, &env.key).await;
    let query = env.authorize(&location).await;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let (code, state, ts) = (get("code"), get("state"), get("timestamp"));

    // A forged HMAC, a tampered parameter, no HMAC at all.
    let forged = query.replace(&get("hmac"), &"0".repeat(64));
    env.callback(&forged)
        .await
        .assert_error(401, "unauthorized");
    let tampered = query.replace(&format!("code={code}"), "code=stolen");
    env.callback(&tampered)
        .await
        .assert_error(401, "unauthorized");
    let unsigned = format!("code={code}&shop={SHOP}&state={state}&timestamp={ts}");
    env.callback(&unsigned)
        .await
        .assert_error(400, "validation_error");
    // Correctly signed but for a domain that is not a shop.
    let evil = signed_query(
        CLIENT_SECRET,
        &[
            ("code", &code),
            ("shop", "evil.example.com"),
            ("state", &state),
            ("timestamp", &ts),
        ],
    );
    env.callback(&evil)
        .await
        .assert_error(400, "validation_error");
    // Correctly signed, but the timestamp is an hour old.
    let old = (Utc::now().timestamp() - 3600).to_string();
    let stale = signed_query(
        CLIENT_SECRET,
        &[
            ("code", &code),
            ("shop", SHOP),
            ("state", &state),
            ("timestamp", &old),
        ],
    );
    let m = env
        .callback(&stale)
        .await
        .assert_error(400, "validation_error");
    assert!(m.contains("timestamp"), "{m}");
    // A state we never issued.
    let unknown = signed_query(
        CLIENT_SECRET,
        &[
            ("code", &code),
            ("shop", SHOP),
            ("state", "made-up"),
            ("timestamp", &ts),
        ],
    );
    env.callback(&unknown)
        .await
        .assert_error(400, "validation_error");
    assert!(env.shop_row().await.is_none(), "nothing installed yet");
    assert!(
        env.fake.token_requests().is_empty(),
        "no code was exchanged"
    );

    // The genuine callback works once; replayed, it is refused.
    let r = env.callback(&query).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = env
        .callback(&query)
        .await
        .assert_error(400, "validation_error");
    assert!(m.contains("state"), "{m}");
    assert_eq!(env.fake.token_requests().len(), 1);

    // An expired state is refused (and used up).
    let (_, location, _) = env.start_install(SHOP, &env.agent_id, &env.key).await;
    let query = env.authorize(&location).await;
    shopify_states::Entity::update_many()
        .col_expr(
            shopify_states::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .exec(&env.app.ctx().db)
        .await
        .unwrap();
    let m = env
        .callback(&query)
        .await
        .assert_error(400, "validation_error");
    assert!(m.contains("expired"), "{m}");
    // A browser gets a page, not JSON.
    let page = no_redirects()
        .get(format!("{}/shopify/callback?{forged}", env.app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 401);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("The installation failed")
    );
}

async fn shopify_product_webhooks_reindex_one_product(b: Backend) {
    let env = setup(b).await;
    let source_id = env.install().await;
    let before = env.active_chunks(&source_id).await;
    let update = json!({"id": 1, "admin_graphql_api_id": gid(1), "title": "Trailblazer Backpack"});

    // A bad signature: 401, and nothing changes.
    env.fake.edit_product(1, |p| {
        p["priceRangeV2"]["minVariantPrice"]["amount"] = json!("79.00");
        p["priceRangeV2"]["maxVariantPrice"]["amount"] = json!("79.00");
        p["variants"]["nodes"][0]["price"] = json!("79.00");
    });
    let calls = env.fake.graphql_calls().len();
    let r = env
        .webhook("products/update", &update, "not-the-secret", "w-1")
        .await;
    r.assert_error(401, "unauthorized");
    let r = env
        .app
        .client
        .post(format!("{}/shopify/webhooks", env.app.base))
        .header("x-shopify-topic", "products/update")
        .header("x-shopify-shop-domain", SHOP)
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    Reply::from(r).await.assert_error(401, "unauthorized");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(env.active_chunks(&source_id).await, before);
    assert_eq!(env.fake.graphql_calls().len(), calls);

    // A genuine update re-indexes that product only, fetched by id.
    let r = env
        .webhook("products/update", &update, CLIENT_SECRET, "w-2")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        eventually(30, || async {
            env.active_chunks(&source_id)
                .await
                .iter()
                .any(|(k, _, t)| *k == gid(1) && t.contains("79.00"))
        })
        .await,
        "the product was re-indexed"
    );
    let after = env.active_chunks(&source_id).await;
    let others = |v: &[(String, String, String)]| -> Vec<(String, String, String)> {
        v.iter().filter(|(k, _, _)| *k != gid(1)).cloned().collect()
    };
    assert_eq!(others(&after), others(&before), "other products untouched");
    assert!(
        !after
            .iter()
            .any(|(k, _, t)| *k == gid(1) && t.contains("89.00"))
    );
    let new_calls = &env.fake.graphql_calls()[calls..];
    assert_eq!(new_calls.len(), 1, "{new_calls:?}");
    assert!(new_calls[0].query.contains("product(id:"));
    assert_eq!(new_calls[0].variables["id"], gid(1));
    // Delivered again (same webhook id): nothing is done twice.
    let r = env
        .webhook("products/update", &update, CLIENT_SECRET, "w-2")
        .await;
    assert_eq!(r.body["outcome"], "duplicate", "{}", r.body);

    // A deleted product leaves the index.
    let r = env
        .webhook("products/delete", &json!({"id": 2}), CLIENT_SECRET, "w-3")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        eventually(30, || async {
            !env.doc_keys(&source_id).await.contains(&gid(2))
        })
        .await,
        "deleted product removed"
    );
    assert_eq!(env.doc_keys(&source_id).await.len(), 5);
}

async fn shopify_uninstall_stops_syncing_and_redact_deletes(b: Backend) {
    let env = setup(b).await;
    let source_id = env.install().await;
    let db = &env.app.ctx().db;
    // A lead of a customer the shop will ask us to redact.
    let r = env
        .app
        .post(
            "/api/v1/leads",
            &env.key,
            json!({"agent_id": env.agent_id, "email": "ana@example.com", "name": "Ana", "source": "api"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = env
        .webhook(
            "app/uninstalled",
            &json!({"id": 1, "domain": SHOP}),
            CLIENT_SECRET,
            "u-1",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let row = env.shop_row().await.unwrap();
    assert_eq!(row.status, "uninstalled");
    assert!(row.access_token_enc.is_none() && row.refresh_token_enc.is_none());
    let s = env
        .app
        .get(&format!("/api/v1/sources/{source_id}"), &env.key)
        .await;
    assert_eq!(s.body["data"]["refresh"], "off", "{}", s.body);
    assert!(
        s.body["data"]["error"]
            .as_str()
            .unwrap()
            .contains("uninstalled"),
        "{}",
        s.body
    );
    let calls = env.fake.graphql_calls().len();
    // No sync runs any more: a re-sync fails with a reason, product webhooks are ignored.
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "failed", "{s}");
    assert!(s["error"].as_str().unwrap().contains("install"), "{s}");
    let r = env
        .webhook("products/update", &json!({"id": 1}), CLIENT_SECRET, "u-2")
        .await;
    assert_eq!(r.body["outcome"], "ignored", "{}", r.body);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        env.fake.graphql_calls().len(),
        calls,
        "Shopify is not called again"
    );

    // Compliance topics: answered 200; customer redact deletes that customer's lead.
    let r = env
        .webhook(
            "customers/data_request",
            &json!({"shop_domain": SHOP, "customer": {"id": 9, "email": "ana@example.com"}}),
            CLIENT_SECRET,
            "c-1",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = env
        .webhook(
            "customers/redact",
            &json!({"shop_domain": SHOP, "customer": {"id": 9, "email": "ana@example.com"}}),
            CLIENT_SECRET,
            "c-2",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let leads = env.app.get("/api/v1/leads", &env.key).await;
    assert_eq!(leads.body["data"], json!([]), "{}", leads.body);

    // A forged shop/redact changes nothing.
    let redact = json!({"shop_id": 1, "shop_domain": SHOP});
    assert_eq!(env.doc_keys(&source_id).await.len(), 6);
    env.webhook("shop/redact", &redact, "wrong", "r-0")
        .await
        .assert_error(401, "unauthorized");
    assert!(env.shop_row().await.is_some());
    assert_eq!(env.doc_keys(&source_id).await.len(), 6);
    // shop/redact deletes everything of the shop.
    let r = env
        .webhook("shop/redact", &redact, CLIENT_SECRET, "r-1")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(env.shop_row().await.is_none());
    env.app
        .get(&format!("/api/v1/sources/{source_id}"), &env.key)
        .await
        .assert_error(404, "not_found");
    let sid: uuid::Uuid = source_id.parse().unwrap();
    assert!(
        eventually(30, || async {
            documents::Entity::find()
                .filter(documents::Column::SourceId.eq(sid))
                .all(db)
                .await
                .unwrap()
                .is_empty()
        })
        .await,
        "the shop's documents are purged"
    );
}

async fn shopify_token_is_refreshed_before_expiry(b: Backend) {
    let env = setup(b).await;
    let source_id = env.install().await;
    let first = env.fake.issued_tokens()[0].clone();
    // The access token expires in a minute: the next sync refreshes it first.
    let row = env.shop_row().await.unwrap();
    let old_refresh = row.refresh_token_enc.clone().unwrap();
    shopify_shops::Entity::update_many()
        .col_expr(
            shopify_shops::Column::AccessTokenExpiresAt,
            sea_orm::sea_query::Expr::value(Utc::now() + Duration::seconds(60)),
        )
        .exec(&env.app.ctx().db)
        .await
        .unwrap();
    let s = env.resync(&source_id).await;
    assert_eq!(s["status"], "ready", "{s}");
    let refreshes: Vec<Value> = env
        .fake
        .token_requests()
        .into_iter()
        .filter(|r| r["grant_type"] == "refresh_token")
        .collect();
    assert_eq!(refreshes.len(), 1, "{refreshes:?}");
    let issued = env.fake.issued_tokens();
    let second = issued.last().unwrap().clone();
    assert_ne!(first, second);
    let row = env.shop_row().await.unwrap();
    let sbox = env.app.ctx().secret_box().await.unwrap();
    assert_eq!(
        sbox.open(row.access_token_enc.as_ref().unwrap()).unwrap(),
        second
    );
    assert_ne!(
        row.refresh_token_enc.unwrap(),
        old_refresh,
        "the new pair is stored"
    );
    assert!(row.access_token_expires_at.unwrap() > Utc::now() + Duration::minutes(50));
    // The fake revoked the old token at the refresh: the sync's requests used the new one.
    let last = env.fake.graphql_calls().last().unwrap().clone();
    assert_eq!((last.status, last.token), (200, second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_not_configured_is_explained() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "A").await;
    let r = no_redirects()
        .get(format!(
            "{}/shopify/install?shop={SHOP}&agent_id={}",
            app.base,
            agent["id"].as_str().unwrap()
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let m = Reply::from(r).await.assert_error(503, "not_configured");
    assert!(m.contains("OTOQ_SHOPIFY_API_KEY"), "{m}");
    let r = app
        .client
        .post(format!("{}/shopify/webhooks", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    Reply::from(r).await.assert_error(503, "not_configured");
}

/// Our OAuth query HMAC and webhook HMAC, checked by Shopify's own library
/// (`@shopify/shopify-api`, pinned in tests/shopify-node/package-lock.json) running offline.
#[tokio::test]
async fn shopify_hmacs_match_shopifys_library() {
    use otoq_core::shopify::hmac::{sign_body, sign_query, verify_body, verify_query};
    let dir = format!("{}/tests/shopify-node", env!("CARGO_MANIFEST_DIR"));
    assert!(
        std::path::Path::new(&format!("{dir}/node_modules/@shopify/shopify-api")).exists(),
        "run `npm ci` in tests/shopify-node (scripts/test.sh does)"
    );
    let secret = "shpss_0123456789abcdef";
    let ts = Utc::now().timestamp().to_string();
    // Values that need escaping: spaces, &, =, +, %, a slash, non-ASCII, base64 padding.
    let mut params: Vec<(String, String)> = [
        ("shop", SHOP),
        ("timestamp", ts.as_str()),
        ("code", "a b&c=d+e%f/g"),
        ("state", "naïve state ü"),
        ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw=="),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let hmac = sign_query(secret, &params);
    params.push(("hmac".into(), hmac));
    assert!(verify_query(secret, &params));
    let body = r#"{"id":1,"title":"Caf\u00e9 & Tea","body_html":"<p>naïve</p>"}"#;
    let run = |query: Vec<(String, String)>, body_hmac: String| {
        let query: serde_json::Map<String, Value> = query
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let input = json!({"secret": secret, "query": query, "body": body, "body_hmac": body_hmac});
        let dir = dir.clone();
        async move {
            let mut child = tokio::process::Command::new("node")
                .arg("hmac.mjs")
                .current_dir(&dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("node runs");
            use tokio::io::AsyncWriteExt;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.to_string().as_bytes()).await.unwrap();
            drop(stdin);
            let out = child.wait_with_output().await.unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        }
    };
    let out = run(params.clone(), sign_body(secret, body.as_bytes())).await;
    assert_eq!(out["query_valid"], true, "{out}");
    assert_eq!(out["webhook_valid"], true, "{out}");
    // Shopify's library signs the body as we verify it.
    let theirs = out["body_hmac"].as_str().unwrap();
    assert_eq!(theirs, sign_body(secret, body.as_bytes()));
    assert!(verify_body(secret, body.as_bytes(), theirs));
    // And it refuses what we refuse: a changed parameter, a changed body signature.
    let mut tampered = params.clone();
    tampered[2].1.push('x');
    assert!(!verify_query(secret, &tampered));
    let out = run(tampered, sign_body("other", body.as_bytes())).await;
    assert_eq!(out["query_valid"], false, "{out}");
    assert_eq!(out["webhook_valid"], false, "{out}");
}

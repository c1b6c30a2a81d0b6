//! The install's refusals (forged, tampered, replayed, expired, old), configuration, token refresh.

use chrono::{Duration, Utc};
use otoq_entities::{shopify_shops, shopify_states};
use sea_orm::EntityTrait;
use serde_json::Value;

use super::env::{no_redirects, setup};
use crate::both_backends;
use crate::support::shopify::{CLIENT_SECRET, SHOP, signed_query};
use crate::support::{Backend, Reply, spawn_app_with};

both_backends!(
    shopify_callback_refuses_forgeries,
    shopify_token_is_refreshed_before_expiry
);

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

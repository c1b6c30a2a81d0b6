//! The console's routes, black-box: sign-up, sign-in and out, CSRF, lockout, roles and tenant
//! isolation, on both modes. A tiny cookie-keeping client plays the browser (`console_client`).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

pub use super::console_client::Browser;
use crate::both_backends;
use crate::support::{Backend, TestApp, spawn_app_with};

/// The app with sign-up open (the scaled mode's default is closed).
pub async fn console_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |e| {
        e.set("OTOQ_SIGNUP", "open");
    })
    .await
}

async fn sign_up_in_and_out(backend: Backend) {
    let app = console_app(backend).await;
    let b = Browser::new(&app);
    let r = b.get("/agents").await;
    assert_eq!(r.status, 303, "signed out: to the sign-in page");
    assert_eq!(r.location(), "/signin");

    let form = b.get("/signup").await;
    let csrf = form.csrf();
    let r = b
        .post(
            "/signup",
            &[
                ("_csrf", &csrf),
                ("business", "Outdoor Shop"),
                ("email", "Owner@Shop.example"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("`password` must be 8"), "{}", r.body);
    let r = b
        .post(
            "/signup",
            &[
                ("_csrf", &csrf),
                ("business", "Outdoor Shop"),
                ("email", "Owner@Shop.example"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("otoq_session="))
        .expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http deployment: {cookie}"
    );
    let token = cookie
        .trim_start_matches("otoq_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // Stored hashed: the cookie is not a key of the table, its SHA-256 is.
    use otoq_entities::{members, sessions};
    let db = &app.ctx().db;
    assert!(
        sessions::Entity::find_by_id(token.clone())
            .one(db)
            .await
            .unwrap()
            .is_none()
    );
    let hash = otoq_core::secrets::sha256_hex(token.as_bytes());
    assert!(
        sessions::Entity::find_by_id(hash)
            .one(db)
            .await
            .unwrap()
            .is_some()
    );
    let m = members::Entity::find()
        .filter(members::Column::Email.eq("owner@shop.example"))
        .one(db)
        .await
        .unwrap()
        .expect("the owner");
    assert_eq!(m.role, otoq_entities::enums::MemberRole::Owner);
    assert!(m.password_hash.unwrap().starts_with("$argon2id$v=19$"));

    let page = b.get("/agents").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Create an agent"));
    assert!(page.body.contains("owner@shop.example"));

    // The same email cannot sign up twice.
    let other = Browser::new(&app);
    let f = other.get("/signup").await;
    let r = other
        .post(
            "/signup",
            &[
                ("_csrf", &f.csrf()),
                ("business", "Again"),
                ("email", "owner@shop.example"),
                ("password", "another password"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("already has an account"), "{}", r.body);

    // A second browser signs in; signing out ends both sessions.
    let r = other.sign_in("owner@shop.example", "wrong password").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong email or password"));
    let r = other
        .sign_in("owner@shop.example", "correct horse battery")
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(other.get("/leads").await.status, 200);
    let t = b.token().await;
    let r = b.post("/signout", &[("_csrf", &t)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/signin");
    assert_eq!(b.get("/agents").await.status, 303);
    assert_eq!(
        other.get("/leads").await.status,
        303,
        "signing out ends every session of the member"
    );
}

async fn forged_forms_are_refused(backend: Backend) {
    let app = console_app(backend).await;
    let b = Browser::new(&app);
    b.sign_up("csrf@shop.example", "correct horse battery", "Shop")
        .await;
    for token in ["", "not-the-token"] {
        let r = b
            .post("/agents", &[("_csrf", token), ("name", "Forged")])
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let list = b.get("/agents").await;
    assert!(!list.body.contains("Forged"), "no agent was created");
    let t = b.token().await;
    let r = b.post("/signout", &[]).await;
    assert_eq!(r.status, 403, "sign-out needs the token too");
    assert_eq!(b.get("/agents").await.status, 200, "still signed in");
    // The token of one session is not valid for another.
    let other = Browser::new(&app);
    other
        .sign_up("csrf2@shop.example", "correct horse battery", "Shop 2")
        .await;
    let r = other
        .post("/agents", &[("_csrf", &t), ("name", "Forged")])
        .await;
    assert_eq!(r.status, 403);
    // Anonymous forms: without the form's cookie the token is refused.
    let fresh = Browser::new(&app);
    let r = fresh
        .post(
            "/signin",
            &[
                ("_csrf", "a".repeat(32).as_str()),
                ("email", "csrf@shop.example"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = fresh
        .post(
            "/signup",
            &[
                ("business", "X"),
                ("email", "x@shop.example"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
}

async fn lockout_after_repeated_failures(backend: Backend) {
    let app = console_app(backend).await;
    let b = Browser::new(&app);
    b.sign_up("lock@shop.example", "correct horse battery", "Shop")
        .await;
    let t = b.token().await;
    b.post("/signout", &[("_csrf", &t)]).await;
    for i in 1..5 {
        let r = b.sign_in("lock@shop.example", "wrong").await;
        assert_eq!(r.status, 401, "failure {i}");
    }
    let r = b.sign_in("lock@shop.example", "wrong").await;
    assert_eq!(r.status, 423, "the 5th failure locks: {}", r.body);
    assert!(r.body.contains("locked until"));
    let r = b
        .sign_in("lock@shop.example", "correct horse battery")
        .await;
    assert_eq!(r.status, 423, "locked even with the right password");
    assert_eq!(b.get("/agents").await.status, 303);
}

async fn agent_role_cannot_see_keys(backend: Backend) {
    let app = console_app(backend).await;
    let owner = Browser::new(&app);
    owner
        .sign_up("boss@shop.example", "correct horse battery", "Shop")
        .await;
    let keys = owner.get("/settings/keys").await;
    assert_eq!(keys.status, 200);
    assert!(
        keys.body.contains("otoq_"),
        "the owner sees the default key's prefix"
    );
    use otoq_entities::members;
    let boss = members::Entity::find()
        .filter(members::Column::Email.eq("boss@shop.example"))
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap();
    otoq_core::people::insert_member(
        &app.ctx().db,
        boss.account_id,
        "helper@shop.example",
        Some("helper password 1"),
        otoq_core::people::MemberRole::Agent,
    )
    .await
    .unwrap();
    let helper = Browser::new(&app);
    let r = helper
        .sign_in("helper@shop.example", "helper password 1")
        .await;
    assert_eq!(r.status, 303);
    let home = helper.get("/").await;
    assert_eq!(home.location(), "/conversations");
    let inbox = helper.get("/conversations").await;
    assert_eq!(inbox.status, 200);
    assert!(
        !inbox.body.contains("/settings/keys"),
        "no link to the keys"
    );
    assert_eq!(helper.get("/leads").await.status, 200);
    let r = helper.get("/settings/keys").await;
    assert_eq!(r.status, 403);
    assert!(!r.body.contains("otoq_"), "{}", r.body);
    let t = helper.token().await;
    let r = helper
        .post("/settings/keys", &[("_csrf", &t), ("name", "mine")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(helper.get("/agents").await.status, 403);
}

async fn another_account_gets_404(backend: Backend) {
    let app = console_app(backend).await;
    let a = Browser::new(&app);
    a.sign_up("a@one.example", "correct horse battery", "One")
        .await;
    let agent = a.create_agent("Private agent").await;
    let t = a.token().await;
    let r = a
        .post(
            &format!("/agents/{agent}/knowledge/text"),
            &[
                ("_csrf", &t),
                ("title", "Secret"),
                ("content", "The safe code is 1234."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = a.get(&format!("/agents/{agent}/knowledge")).await;
    let source = page
        .body
        .split("data-source=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the source row")
        .to_string();
    let b = Browser::new(&app);
    b.sign_up("b@two.example", "correct horse battery", "Two")
        .await;
    let tb = b.token().await;
    for path in [
        format!("/agents/{agent}"),
        format!("/agents/{agent}/knowledge"),
        format!("/agents/{agent}/knowledge/sources"),
        format!("/agents/{agent}/install"),
        format!("/agents/{agent}/delete"),
        format!("/conversations/{}", uuid::Uuid::new_v4()),
        "/agents/not-a-uuid".to_string(),
    ] {
        let r = b.get(&path).await;
        assert_eq!(r.status, 404, "GET {path}");
        assert!(!r.body.contains("Private agent"));
    }
    for path in [
        format!("/agents/{agent}"),
        format!("/agents/{agent}/delete"),
        format!("/agents/{agent}/knowledge/text"),
        format!("/sources/{source}/resync"),
        format!("/sources/{source}/delete"),
    ] {
        let r = b
            .post(
                &path,
                &[
                    ("_csrf", &tb),
                    ("name", "Taken"),
                    ("title", "x"),
                    ("content", "y"),
                ],
            )
            .await;
        assert_eq!(r.status, 404, "POST {path}: {}", r.body);
    }
    let mine = a.get(&format!("/agents/{agent}")).await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains("Private agent"), "untouched");
    assert!(
        a.get(&format!("/agents/{agent}/knowledge"))
            .await
            .body
            .contains("Secret")
    );
}

async fn signup_closed_and_assets_cached(backend: Backend) {
    let app = spawn_app_with(backend, |e| {
        e.set("OTOQ_SIGNUP", "closed");
    })
    .await;
    let b = Browser::new(&app);
    assert_eq!(b.get("/signup").await.status, 403);
    let r = b.post("/signup", &[]).await;
    assert_eq!(r.status, 403);
    let signin = b.get("/signin").await;
    assert_eq!(signin.status, 200);
    assert!(
        !signin.body.contains("/signup"),
        "no sign-up link when closed"
    );
    let at = signin
        .body
        .find("/assets/htmx.min.js?v=")
        .expect("htmx linked");
    let src = signin.body[at..].split('"').next().unwrap().to_string();
    let r = app
        .client
        .get(format!("{}{src}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(r.text().await.unwrap().starts_with("var htmx="));
    let r = app
        .client
        .get(format!("{}/assets/htmx.min.js", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = app
        .client
        .get(format!("{}/assets/nope.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

both_backends!(
    sign_up_in_and_out,
    forged_forms_are_refused,
    lockout_after_repeated_failures,
    agent_role_cannot_see_keys,
    another_account_gets_404,
    signup_closed_and_assets_cached,
);

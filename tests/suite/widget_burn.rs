//! No visitor burns the month: 1,000 scripted visitors from one address open no more than the
//! configured share of a free plan's conversations; visitor tokens are issued at a limited rate
//! per address and refused from another one; the owner is emailed once when the agent's own
//! limit starts refusing visitors.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::both_backends;
use crate::support::smtp::SmtpServer;
use crate::support::{Backend, Reply, TestApp, spawn_app_with};

async fn from(
    app: &TestApp,
    ip: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let mut req = app
        .client
        .post(format!("{}/widget/v1/{path}", app.base))
        .header("x-forwarded-for", ip);
    if let Some(t) = token {
        req = req.header("x-otoq-visitor", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Reply::from(req.send().await.unwrap()).await
}

async fn a_thousand_visitors_from_one_address_open_a_share_of_the_month(b: Backend) {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_SMTP_URL", smtp.url.clone());
        e.set("OTOQ_SMTP_FROM", "otoq <bot@otoq.test>");
        e.set("OTOQ_TRUST_FORWARDED_FOR", "true");
        // The per-minute request limit is not what holds them back here.
        e.set("OTOQ_WIDGET_RATE_LIMIT_IP", "1000000");
        e.set("OTOQ_WIDGET_RATE_LIMIT_VISITOR", "1000000");
        e.set("OTOQ_WIDGET_VISITORS_PER_IP_HOUR", "10");
        e.set("OTOQ_WIDGET_CONVERSATIONS_PER_IP_HOUR", "5");
        e.set("OTOQ_WIDGET_HOURLY_SHARE_PERCENT", "4");
        e.set("OTOQ_WIDGET_DAILY_SHARE_PERCENT", "10");
    })
    .await;
    let (account, _) = app.account(otoq_core::plans::Plan::Free).await;
    let agent = otoq_core::agents::create(
        app.ctx(),
        account,
        otoq_core::agents::NewAgent {
            name: "Free shop".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let pid = agent.public_id.clone();
    let attacker = "203.0.113.7";
    let (mut tokens, mut opened, mut refused) = (0, 0, 0);
    let mut a_token = None;
    for _ in 0..1000 {
        let r = from(&app, attacker, &format!("{pid}/visitors"), None, None).await;
        if r.status == 429 {
            refused += 1;
            continue;
        }
        assert_eq!(r.status, 201, "{}", r.body);
        tokens += 1;
        let token = r.body["data"]["visitor_token"]
            .as_str()
            .unwrap()
            .to_string();
        for _ in 0..3 {
            let r = from(
                &app,
                attacker,
                &format!("{pid}/chat"),
                Some(&token),
                Some(json!({"message": "hello", "stream": false})),
            )
            .await;
            match r.status.as_u16() {
                200 => opened += 1,
                429 => assert!(r.header("retry-after").is_some()),
                s => panic!("{s}: {}", r.body),
            }
        }
        a_token = Some(token);
    }
    assert_eq!(tokens, 10, "tokens issued to one address in an hour");
    assert_eq!(refused, 990);
    let conversations = otoq_entities::conversations::Entity::find()
        .filter(otoq_entities::conversations::Column::AgentId.eq(agent.id))
        .count(&app.ctx().db)
        .await
        .unwrap();
    assert_eq!(conversations, opened);
    // 4 % of the month an hour (2), within the address's 5 and the day's 10 % (5 of 50).
    assert_eq!(conversations, 2, "conversations opened");
    assert!(conversations * 10 <= 50);

    // The token is bound to the address it was issued to.
    let token = a_token.unwrap();
    let r = from(
        &app,
        "198.51.100.9",
        &format!("{pid}/chat"),
        Some(&token),
        Some(json!({"message": "hi", "stream": false})),
    )
    .await;
    let msg = r.assert_error(401, "invalid_visitor");
    assert!(msg.contains("another network address"), "{msg}");

    // The owner hears once that the agent is turning visitors away.
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1);
    let subject = mails[0].header("subject").unwrap_or_default();
    assert!(subject.contains("turning visitors away"), "{subject}");
    let r = from(&app, "198.51.100.9", &format!("{pid}/visitors"), None, None).await;
    assert_eq!(
        r.status, 201,
        "another address still gets a token: {}",
        r.body
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 1, "one email per period");
}

both_backends!(a_thousand_visitors_from_one_address_open_a_share_of_the_month);

//! Webhooks: signed `lead.captured` deliveries exactly as the reference documents them, the
//! retry schedule (driven by the clock, not sleeps), rotation, 410, Retry-After, replay, the log,
//! SSRF refusals and tenancy.

use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::receiver::{Answer, Received, Receiver};
use crate::support::{Backend, TestApp, eventually, spawn_app, spawn_app_with};

both_backends!(
    lead_reaches_the_receiver_signed_as_documented,
    receiver_down_gets_every_event_later_with_the_same_id,
    backoff_then_daily_then_failed_and_replayable,
    rotation_signs_with_both_secrets_for_a_day,
    gone_disables_and_retry_after_is_honoured,
    internal_addresses_are_refused,
    other_accounts_deliveries_are_invisible
);

/// A pro account with an agent and a webhook to `url`; returns (key, agent id, secret).
pub async fn hooked(app: &TestApp, url: &str) -> (String, String, String) {
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Sales").await;
    let r = app.put_webhook(&key, url).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["data"]["secret"].as_str().unwrap().to_string();
    (key, agent["id"].as_str().unwrap().to_string(), secret)
}

pub async fn lead(app: &TestApp, key: &str, agent: &str, email: &str) -> Value {
    let r = app
        .post(
            "/api/v1/leads",
            key,
            json!({"agent_id": agent, "email": email, "name": "Ana Silva",
            "phone": "+351 912 345 678", "company": "Acme", "source": "form"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"].clone()
}

fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Verifies the Standard Webhooks headers with the spec's own Python library.
fn standard_verifies(secret: &str, r: &Received) -> bool {
    let python = format!(
        "{}/target/test-pyvenv/bin/python",
        env!("CARGO_MANIFEST_DIR")
    );
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run scripts/test.sh (it installs the standardwebhooks package)"
    );
    let input = json!({
        "secret": secret,
        "body": String::from_utf8(r.body.clone()).unwrap(),
        "headers": {
            "webhook-id": r.header("webhook-id").unwrap(),
            "webhook-timestamp": r.header("webhook-timestamp").unwrap(),
            "webhook-signature": r.header("webhook-signature").unwrap(),
        }
    });
    let mut child = std::process::Command::new(python)
        .arg(format!(
            "{}/tests/fixtures/verify_standard_webhook.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap().status.success()
}

async fn delivery_of(app: &TestApp, key: &str) -> Value {
    let r = app.get("/api/v1/webhook/deliveries", key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["data"][0]["id"]
        .as_str()
        .expect("a delivery")
        .to_string();
    app.get(&format!("/api/v1/webhook/deliveries/{id}"), key)
        .await
        .body["data"]
        .clone()
}

async fn lead_reaches_the_receiver_signed_as_documented(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_app(b).await;
    let (key, agent, secret) = hooked(&app, &rx.url).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let lead = lead(&app, &key, &agent, "Ana@Example.COM").await;
    let got = rx.wait_for(1, 20).await;
    let r = &got[0];
    assert_eq!(r.header("content-type"), Some("application/json"));
    let sig = r.header("x-webhook-signature").unwrap();
    assert_eq!(
        sig,
        format!("sha256={}", hmac_hex(secret.as_bytes(), &r.body))
    );
    assert_ne!(
        sig,
        format!("sha256={}", hmac_hex(b"whsec_another", &r.body))
    );
    let id = r.header("x-webhook-id").unwrap();
    assert!(id.starts_with("evt_"), "{id}");
    let ts: i64 = r.header("x-webhook-timestamp").unwrap().parse().unwrap();
    assert!((ts - chrono::Utc::now().timestamp()).abs() < 60);
    assert_eq!(r.header("webhook-id"), Some(id));
    assert!(
        standard_verifies(&secret, r),
        "Standard Webhooks signature verifies"
    );
    let mut wrong = r.clone();
    wrong.body.push(b' ');
    assert!(
        !standard_verifies(&secret, &wrong),
        "and fails on a changed body"
    );

    // The body: the reference's fields, in its order.
    let text = String::from_utf8(r.body.clone()).unwrap();
    assert!(
        text.starts_with("{\"event\":\"lead.captured\",\"timestamp\":\""),
        "{text}"
    );
    let v = r.json();
    let keys: Vec<&str> = v["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut expected = vec![
        "id",
        "agent_id",
        "conversation_id",
        "name",
        "email",
        "phone",
        "company",
        "source",
        "score",
        "created_at",
    ];
    let mut sorted = keys.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(text.find("\"id\"").unwrap() < text.find("\"created_at\"").unwrap());
    assert_eq!(v["data"]["id"], lead["id"]);
    assert_eq!(v["data"]["email"], "Ana@example.com");
    assert_eq!(v["data"]["phone"], "+351912345678");
    assert_eq!(v["data"]["source"], "form");
    assert_eq!(v["data"]["conversation_id"], Value::Null);
    assert!(v["data"]["score"].as_i64().unwrap() >= 55, "{v}");
    assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));

    // The log has the attempt; the test event is delivered and logged too.
    let d = delivery_of(&app, &key).await;
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempt_log"][0]["status_code"], 200);
    let t = app.post("/api/v1/webhook/test", &key, json!({})).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["data"]["status"], "succeeded");
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got[1].json()["event"], "webhook.test");
}

async fn receiver_down_gets_every_event_later_with_the_same_id(b: Backend) {
    let rx = Receiver::start().await;
    rx.script([
        Answer::status(500),
        Answer::status(503),
        Answer::status(500),
    ]);
    let app = spawn_app(b).await;
    let (key, agent, _) = hooked(&app, &rx.url).await;
    lead(&app, &key, &agent, "ana@example.com").await;
    rx.wait_for(1, 20).await;
    // 5 s, then 5 min, then 30 min later (on the app's clock).
    for (n, wait) in [(2, 5), (3, 300), (4, 1800)] {
        let gap = advance_to_next_attempt(&app, &key, n - 1).await;
        assert!(
            (gap - wait as f64).abs() <= wait as f64 * 0.1 + 1.0,
            "retry {n} after {gap} s"
        );
        rx.wait_for(n as usize, 20).await;
    }
    let got = rx.received();
    assert_eq!(got.len(), 4);
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("x-webhook-id").unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "retries send the same bytes"
    );
    assert!(
        eventually(10, || async {
            delivery_of(&app, &key).await["status"] == "succeeded"
        })
        .await
    );
    let d = delivery_of(&app, &key).await;
    assert_eq!(d["attempts"], 4);
    let log = d["attempt_log"].as_array().unwrap();
    assert_eq!(
        log.iter()
            .map(|a| a["status_code"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![500, 503, 500, 200]
    );
    assert!(log.iter().all(|a| a["latency_ms"].as_i64().unwrap() >= 0));
}

/// Waits until attempt `n` is recorded, then moves the clock to the next attempt; returns
/// the scheduled gap in seconds.
async fn advance_to_next_attempt(app: &TestApp, key: &str, n: i64) -> f64 {
    assert!(
        eventually(10, || async {
            delivery_of(app, key).await["attempts"] == n
        })
        .await
    );
    let d = delivery_of(app, key).await;
    let next = at(&d["next_attempt_at"]);
    let gap = (next - at(&d["last_attempt_at"])).num_milliseconds() as f64 / 1000.0;
    let ahead = (next - otoq_core::clock::now()).num_milliseconds().max(0) as u64;
    otoq_core::clock::advance(Duration::from_millis(ahead + 1000));
    gap
}

fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn backoff_then_daily_then_failed_and_replayable(b: Backend) {
    let rx = Receiver::start().await;
    rx.answer_by_default(Answer::status(500));
    let app = spawn_app(b).await;
    let (key, agent, _) = hooked(&app, &rx.url).await;
    lead(&app, &key, &agent, "ana@example.com").await;
    let expected = [5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400];
    for (i, secs) in expected.iter().enumerate() {
        rx.wait_for(i + 1, 20).await;
        assert!(
            eventually(10, || async {
                delivery_of(&app, &key).await["attempts"] == (i + 1) as i64
            })
            .await
        );
        let d = delivery_of(&app, &key).await;
        assert_eq!(d["status"], "pending", "{d}");
        let gap = (at(&d["next_attempt_at"]) - at(&d["last_attempt_at"])).num_milliseconds() as f64
            / 1000.0;
        let want = *secs as f64;
        assert!(
            (gap - want).abs() <= want * 0.1 + 1.0,
            "attempt {}: retry after {gap} s, want {want} s ± 10 %",
            i + 1
        );
        otoq_core::clock::advance(Duration::from_secs_f64(gap + 1.0));
    }
    // Daily retries go on until the endpoint, failing for 5 days, is disabled: the delivery is
    // then failed, and stays replayable.
    let mut attempts = expected.len() as i64;
    for _ in 0..10 {
        let d = delivery_of(&app, &key).await;
        if d["status"] == "failed" {
            break;
        }
        otoq_core::clock::advance(Duration::from_secs(86_400 + 10_000));
        assert!(
            eventually(20, || async {
                let d = delivery_of(&app, &key).await;
                d["attempts"].as_i64().unwrap() > attempts || d["status"] == "failed"
            })
            .await
        );
        attempts = delivery_of(&app, &key).await["attempts"].as_i64().unwrap();
    }
    let d = delivery_of(&app, &key).await;
    assert_eq!(d["status"], "failed", "{d}");
    assert!(d["next_attempt_at"].is_null());
    let first = at(&d["attempt_log"][0]["attempted_at"]);
    let last = at(&d["last_attempt_at"]);
    assert!(
        (last - first).num_days() <= 7,
        "no retries after the 7-day window"
    );
    let e = app.get("/api/v1/webhook", &key).await;
    assert_eq!(e.body["data"]["enabled"], false);
    assert!(
        e.body["data"]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("5 days"),
        "{}",
        e.body
    );
    let n = rx.received().len();
    let r = app.put_webhook(&key, &rx.url).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = delivery_of(&app, &key).await;
    let id = d["id"].as_str().unwrap();
    let failed = app
        .get("/api/v1/webhook/deliveries?status=failed", &key)
        .await;
    assert_eq!(failed.body["meta"]["total"], 1);
    rx.answer_by_default(Answer::status(204));
    let r = app
        .post(
            &format!("/api/v1/webhook/deliveries/{id}/retry"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let got = rx.wait_for(n + 1, 20).await;
    assert_eq!(
        got.last().unwrap().header("x-webhook-id"),
        got[0].header("x-webhook-id")
    );
    assert!(
        eventually(10, || async {
            delivery_of(&app, &key).await["status"] == "succeeded"
        })
        .await
    );
}

async fn rotation_signs_with_both_secrets_for_a_day(b: Backend) {
    let rx = Receiver::start().await;
    let app = spawn_app(b).await;
    let (key, agent, old) = hooked(&app, &rx.url).await;
    let r = app
        .post("/api/v1/webhook/rotate-secret", &key, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.body["data"]["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(r.body["data"]["previous_secret_expires_at"].is_string());
    assert!(
        app.get("/api/v1/webhook", &key).await.body["data"]["secret"].is_null(),
        "never shown again"
    );
    lead(&app, &key, &agent, "a@example.com").await;
    let got = rx.wait_for(1, 20).await;
    let r0 = &got[0];
    assert_eq!(
        r0.header("x-webhook-signature").unwrap(),
        format!("sha256={}", hmac_hex(new.as_bytes(), &r0.body))
    );
    assert_eq!(
        r0.header("x-webhook-signature-previous").unwrap(),
        format!("sha256={}", hmac_hex(old.as_bytes(), &r0.body))
    );
    assert_eq!(
        r0.header("webhook-signature").unwrap().split(' ').count(),
        2
    );
    assert!(standard_verifies(&new, r0) && standard_verifies(&old, r0));
    // A day later only the new secret signs.
    otoq_core::clock::advance(Duration::from_secs(86_401));
    lead(&app, &key, &agent, "b@example.com").await;
    let got = rx.wait_for(2, 20).await;
    let r1 = &got[1];
    assert!(r1.header("x-webhook-signature-previous").is_none());
    assert_eq!(
        r1.header("webhook-signature").unwrap().split(' ').count(),
        1
    );
}

async fn gone_disables_and_retry_after_is_honoured(b: Backend) {
    let rx = Receiver::start().await;
    rx.script([
        Answer::status(503).header("Retry-After", "120"),
        Answer::status(410),
    ]);
    let app = spawn_app(b).await;
    let (key, agent, _) = hooked(&app, &rx.url).await;
    lead(&app, &key, &agent, "a@example.com").await;
    rx.wait_for(1, 20).await;
    assert!(
        eventually(10, || async {
            delivery_of(&app, &key).await["attempts"] == 1
        })
        .await
    );
    let d = delivery_of(&app, &key).await;
    let gap = (at(&d["next_attempt_at"]) - at(&d["last_attempt_at"])).num_seconds();
    assert!((119..=121).contains(&gap), "Retry-After: 120 gives {gap} s");
    otoq_core::clock::advance(Duration::from_secs(121));
    rx.wait_for(2, 20).await;
    assert!(
        eventually(10, || async {
            app.get("/api/v1/webhook", &key).await.body["data"]["enabled"] == false
        })
        .await
    );
    let e = app.get("/api/v1/webhook", &key).await;
    assert!(
        e.body["data"]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    assert_eq!(delivery_of(&app, &key).await["status"], "failed");
    // Disabled: new leads are not sent; PUT re-enables.
    lead(&app, &key, &agent, "b@example.com").await;
    let r = app.put_webhook(&key, &rx.url).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["enabled"], true);
    assert!(r.body["data"]["disabled_reason"].is_null());
    assert!(r.body["data"]["secret"].is_null());
    lead(&app, &key, &agent, "c@example.com").await;
    let got = rx.wait_for(3, 20).await;
    assert_eq!(got[2].json()["data"]["email"], "c@example.com");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 3);
}

async fn internal_addresses_are_refused(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.set("OTOQ_ALLOW_PRIVATE_NETWORKS", "false");
    })
    .await;
    let key = app.pro_key().await;
    for url in [
        "http://127.0.0.1/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://2130706433/hook",
        "http://10.1.2.3/hook",
        "http://[fc00::1]/hook",
        "http://[fe80::1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://localhost/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let r = app.put_webhook(&key, url).await;
        let msg = r.assert_error(400, "validation_error");
        assert!(msg.contains("url"), "{url}: {msg}");
    }
    // An endpoint saved before (or by other means) is checked again at send time.
    let rx = Receiver::start().await;
    let agent = app.create_agent(&key, "S").await;
    let account: uuid::Uuid = {
        use sea_orm::EntityTrait;
        otoq_entities::agents::Entity::find_by_id(
            agent["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap(),
        )
        .one(&app.ctx().db)
        .await
        .unwrap()
        .unwrap()
        .account_id
    };
    {
        use sea_orm::{ActiveModelTrait, Set};
        let sealed = app
            .ctx()
            .secret_box()
            .await
            .unwrap()
            .seal("whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=");
        otoq_entities::webhook_endpoints::ActiveModel {
            account_id: Set(account),
            url: Set(rx.url.clone()),
            enabled: Set(true),
            events: Set(json!(["lead.captured"])),
            secret_enc: Set(sealed),
            previous_secret_enc: Set(None),
            previous_secret_expires_at: Set(None),
            disabled_reason: Set(None),
            failing_since: Set(None),
            created_at: Set(chrono::Utc::now()),
            updated_at: Set(chrono::Utc::now()),
        }
        .insert(&app.ctx().db)
        .await
        .unwrap();
    }
    lead(&app, &key, agent["id"].as_str().unwrap(), "a@example.com").await;
    assert!(
        eventually(20, || async {
            delivery_of(&app, &key).await["attempts"] == 1
        })
        .await
    );
    let d = delivery_of(&app, &key).await;
    let err = d["attempt_log"][0]["error"].as_str().unwrap();
    assert!(err.contains("not allowed"), "{err}");
    assert!(rx.received().is_empty());
}

async fn other_accounts_deliveries_are_invisible(b: Backend) {
    let rx = Receiver::start().await;
    // A redirect is a failure: never followed.
    rx.script([Answer::status(302).header("Location", "http://169.254.169.254/")]);
    let app = spawn_app(b).await;
    let (key, agent, _) = hooked(&app, &rx.url).await;
    let l = lead(&app, &key, &agent, "a@example.com").await;
    rx.wait_for(1, 20).await;
    assert!(
        eventually(10, || async {
            delivery_of(&app, &key).await["attempts"] == 1
        })
        .await
    );
    let d = delivery_of(&app, &key).await;
    assert!(d["last_error"].as_str().unwrap().contains("302"), "{d}");
    assert_eq!(rx.received().len(), 1);
    let other = app.pro_key().await;
    let id = d["id"].as_str().unwrap();
    app.get(&format!("/api/v1/webhook/deliveries/{id}"), &other)
        .await
        .assert_error(404, "not_found");
    app.post(
        &format!("/api/v1/webhook/deliveries/{id}/retry"),
        &other,
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    app.get(
        &format!("/api/v1/leads/{}", l["id"].as_str().unwrap()),
        &other,
    )
    .await
    .assert_error(404, "not_found");
    app.get("/api/v1/webhook", &other)
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        app.get("/api/v1/webhook/deliveries", &other).await.body["meta"]["total"],
        0
    );
    app.post("/api/v1/webhook/test", &other, json!({}))
        .await
        .assert_error(404, "not_found");
}

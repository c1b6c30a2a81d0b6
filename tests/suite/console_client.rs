//! A browser without JavaScript for the console's tests: keeps cookies, never follows
//! redirects, fills forms with their CSRF token.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::support::TestApp;

/// A browser without JavaScript: keeps cookies, never follows redirects.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

/// A status, headers and body text.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a CSRF field")
            + 20;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser::at(&app.base)
    }

    /// A browser of the app at `base`.
    pub fn at(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Mutex::default(),
        }
    }

    fn cookie_header(&self) -> String {
        let c = self.cookies.lock().unwrap();
        c.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            let mut c = self.cookies.lock().unwrap();
            if val.is_empty() {
                c.remove(k);
            } else {
                c.insert(k.to_string(), val.to_string());
            }
        }
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(r).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(r).await
    }

    /// Signs up; asserts it worked.
    pub async fn sign_up(&self, email: &str, password: &str, business: &str) {
        let form = self.get("/signup").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let r = self
            .post(
                "/signup",
                &[
                    ("_csrf", &form.csrf()),
                    ("business", business),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.location(), "/agents");
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        let form = self.get("/signin").await;
        let csrf = if form.status == 200 {
            form.csrf()
        } else {
            String::new()
        };
        self.post(
            "/signin",
            &[("_csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    /// The CSRF token of a signed-in page.
    pub async fn token(&self) -> String {
        let p = self.get("/conversations").await;
        assert_eq!(p.status, 200, "{}", p.body);
        p.csrf()
    }

    /// Creates an agent; returns its id.
    pub async fn create_agent(&self, name: &str) -> String {
        let t = self.token().await;
        let r = self.post("/agents", &[("_csrf", &t), ("name", name)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        r.location().trim_start_matches("/agents/").to_string()
    }
}

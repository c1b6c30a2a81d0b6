//! A local fake Shopify: the authorize page (redirects back with a signed query), the token
//! endpoint (code and refresh-token grants, expiring tokens) and the Admin GraphQL endpoint
//! (products over several cursor pages, variants and media paged as asked, scripted
//! throttling, queries over 1,000 points refused as Shopify does); it records what it receives.
//! Its signatures are computed here, independently of otoq's code.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};
use serde_json::{Value, json};
use sha2::Sha256;

/// The app's credentials the fake knows.
pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "shpss_test_secret_0123456789";
/// The shop the tests install.
pub const SHOP: &str = "demo-store.myshopify.com";

/// A scripted throttling answer of the GraphQL endpoint.
#[derive(Clone, Debug)]
pub enum Throttle {
    /// HTTP 429 with `Retry-After` seconds.
    Http429(u64),
    /// HTTP 200 with a `THROTTLED` error and the bucket's cost extensions.
    Graphql,
}

/// One GraphQL request the fake received.
#[derive(Clone, Debug)]
pub struct GraphqlCall {
    pub shop: String,
    pub token: String,
    pub query: String,
    pub variables: Value,
    /// What the fake answered: 200, 401 or 429.
    pub status: u16,
    /// The requested cost by Shopify's rules.
    pub cost: u64,
    pub throttled: bool,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Default)]
struct State {
    products: Vec<Value>,
    page_size: usize,
    throttles: VecDeque<Throttle>,
    codes: HashMap<String, String>,
    /// Access token → when it expires.
    access: HashMap<String, Instant>,
    refresh: HashMap<String, String>,
    access_ttl: u64,
    token_requests: Vec<Value>,
    graphql: Vec<GraphqlCall>,
    issued: Vec<String>,
    counter: u64,
}

type Shared = Arc<Mutex<State>>;

/// The fake; stops when dropped.
pub struct FakeShopify {
    /// `http://127.0.0.1:port`.
    pub base: String,
    state: Shared,
    _server: tokio::task::JoinHandle<()>,
}

/// Hex HMAC-SHA256 of `message` with the app secret.
pub fn hex_hmac(secret: &str, message: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(message.as_bytes());
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A callback query as Shopify signs it: the parameters sorted (values here need no escaping),
/// joined as `k=v&…`, HMAC'd with `secret`, `hmac` appended.
pub fn signed_query(secret: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.to_vec();
    sorted.sort();
    let message = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{message}&hmac={}", hex_hmac(secret, &message))
}

/// A product node as the Admin GraphQL API returns it.
pub fn product(id: u64, title: &str, price: &str, description: &str) -> Value {
    json!({
        "id": format!("gid://shopify/Product/{id}"),
        "title": title,
        "handle": title.to_lowercase().replace(' ', "-"),
        "descriptionHtml": description,
        "vendor": "Acme Outdoor",
        "productType": "Gear",
        "tags": ["outdoor"],
        "status": "ACTIVE",
        "updatedAt": "2026-11-01T10:00:00Z",
        "onlineStoreUrl": null,
        "priceRangeV2": {
            "minVariantPrice": {"amount": price, "currencyCode": "EUR"},
            "maxVariantPrice": {"amount": price, "currencyCode": "EUR"}
        },
        "variants": {"pageInfo": {"hasNextPage": false}, "nodes": [{
            "title": "Default Title", "sku": format!("SKU-{id}"), "price": price,
            "availableForSale": true, "inventoryQuantity": 5,
            "selectedOptions": [{"name": "Title", "value": "Default Title"}]
        }]},
        "media": {"nodes": [{"alt": title, "image": {"url": format!("https://cdn.example.com/{id}.jpg"), "altText": title}}]}
    })
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(body.to_string())
}

fn cost(available: f64) -> Value {
    json!({"cost": {"requestedQueryCost": 100, "actualQueryCost": 12,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0}}})
}

/// The size and start asked of a product's `field` connection (`variants`, `media`) in `query`.
fn nested_page(query: &str, variables: &Value, field: &str) -> Option<(usize, usize)> {
    let at = query.find(&format!("{field}(first:"))?;
    let args = &query[at..at + query[at..].find(')')?];
    let first: usize = args
        .split("first:")
        .nth(1)?
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let start = if args.contains("after:") {
        variables["after"]
            .as_str()
            .and_then(|c| c.rsplit(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    Some((first, start))
}

/// A product as a query sees it: its variants and media cut to the page it asked for.
fn shaped(product: &Value, query: &str, variables: &Value) -> Value {
    let mut p = product.clone();
    for field in ["variants", "media"] {
        let all = product[field]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (first, start) = nested_page(query, variables, field).unwrap_or((all.len(), 0));
        let end = (start + first).min(all.len());
        p[field] = json!({
            "pageInfo": {"hasNextPage": end < all.len(), "endCursor": format!("{field}:{end}")},
            "nodes": all[start.min(end)..end].to_vec(),
        });
    }
    p
}

struct Serve {
    state: Shared,
}

impl Serve {
    fn authorize(&self, shop: &str, query: &str) -> Response {
        let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let code = {
            let mut s = self.state.lock().unwrap();
            s.counter += 1;
            let code = format!("code{}", s.counter);
            s.codes.insert(code.clone(), shop.to_string());
            code
        };
        let ts = chrono::Utc::now().timestamp().to_string();
        let state = q.get("state").cloned().unwrap_or_default();
        let signed = signed_query(
            CLIENT_SECRET,
            &[
                ("code", &code),
                ("shop", shop),
                ("state", &state),
                ("timestamp", &ts),
            ],
        );
        let target = format!(
            "{}?{signed}",
            q.get("redirect_uri").cloned().unwrap_or_default()
        );
        Response::builder()
            .status(StatusCode::FOUND)
            .header("location", target)
            .finish()
    }

    fn token(&self, shop: &str, body: Value) -> Response {
        let mut s = self.state.lock().unwrap();
        s.token_requests.push(body.clone());
        if body["client_id"] != CLIENT_ID || body["client_secret"] != CLIENT_SECRET {
            return json_response(400, json!({"error": "invalid_client"}));
        }
        let ok = if body["grant_type"] == "refresh_token" {
            let rt = body["refresh_token"].as_str().unwrap_or_default();
            s.refresh.remove(rt).is_some_and(|owner| owner == shop)
        } else {
            let code = body["code"].as_str().unwrap_or_default();
            s.codes.remove(code).is_some_and(|owner| owner == shop) && body["expiring"] == 1
        };
        if !ok {
            return json_response(400, json!({"error": "invalid_request"}));
        }
        s.counter += 1;
        let n = s.counter;
        let access = format!("shpat_fake_{n}_{}", uuid::Uuid::new_v4().simple());
        let refresh = format!("shprt_fake_{n}_{}", uuid::Uuid::new_v4().simple());
        if body["grant_type"] == "refresh_token" {
            // The previous access tokens stop working.
            s.access.clear();
        }
        let ttl = s.access_ttl;
        s.access
            .insert(access.clone(), Instant::now() + Duration::from_secs(ttl));
        s.refresh.insert(refresh.clone(), shop.to_string());
        s.issued.push(access.clone());
        json_response(
            200,
            json!({"access_token": access, "scope": "read_products", "expires_in": ttl,
                   "refresh_token": refresh, "refresh_token_expires_in": 7_776_000}),
        )
    }

    fn graphql(&self, shop: &str, token: String, body: Value) -> Response {
        let mut s = self.state.lock().unwrap();
        let query = body["query"].as_str().unwrap_or_default().to_string();
        let variables = body["variables"].clone();
        let valid = s
            .access
            .get(&token)
            .is_some_and(|exp| *exp > Instant::now());
        let mut call = GraphqlCall {
            shop: shop.to_string(),
            token,
            query: query.clone(),
            variables: variables.clone(),
            status: 200,
            cost: super::graphql_cost::requested_cost(&query, &variables),
            throttled: false,
            at: Instant::now(),
        };
        if !valid {
            call.status = 401;
            s.graphql.push(call);
            return json_response(
                401,
                json!({"errors": "[API] Invalid API key or access token"}),
            );
        }
        if call.cost > 1000 {
            let cost = call.cost;
            s.graphql.push(call);
            return json_response(
                200,
                json!({"errors": [{"message": format!("Query cost is {cost}, which exceeds the single query max cost limit (1000)."),
                    "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": 1000,
                        "documentation": "https://shopify.dev/api/usage/rate-limits"}}]}),
            );
        }
        if let Some(t) = s.throttles.pop_front() {
            call.throttled = true;
            match t {
                Throttle::Http429(secs) => {
                    call.status = 429;
                    s.graphql.push(call);
                    return Response::builder()
                        .status(StatusCode::TOO_MANY_REQUESTS)
                        .header("retry-after", secs.to_string())
                        .body("Exceeded 2 calls per second for api client.");
                }
                Throttle::Graphql => {
                    s.graphql.push(call);
                    return json_response(
                        200,
                        json!({"errors": [{"message": "Throttled",
                            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                            "extensions": cost(50.0)}),
                    );
                }
            }
        }
        s.graphql.push(call);
        if query.contains("nodes(ids:") {
            let ids: Vec<Value> = variables["ids"].as_array().cloned().unwrap_or_default();
            let found: Vec<Value> = ids
                .iter()
                .map(|id| {
                    s.products
                        .iter()
                        .find(|p| p["id"] == *id)
                        .map(|p| shaped(p, &query, &variables))
                        .unwrap_or(Value::Null)
                })
                .collect();
            return json_response(
                200,
                json!({"data": {"nodes": found}, "extensions": cost(1990.0)}),
            );
        }
        if query.contains("product(id:") {
            let id = variables["id"].as_str().unwrap_or_default();
            let found = s
                .products
                .iter()
                .find(|p| p["id"] == id)
                .map(|p| shaped(p, &query, &variables));
            return json_response(
                200,
                json!({"data": {"product": found}, "extensions": cost(1990.0)}),
            );
        }
        let start: usize = variables["after"]
            .as_str()
            .and_then(|c| c.strip_prefix("cursor:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        // Shopify's search syntax, as far as the tests use it.
        let active_only = variables["query"]
            .as_str()
            .is_some_and(|q| q.contains("status:active"));
        let listed: Vec<Value> = s
            .products
            .iter()
            .filter(|p| !active_only || p["status"] == "ACTIVE")
            .cloned()
            .collect();
        let end = (start + s.page_size).min(listed.len());
        let nodes: Vec<Value> = listed[start.min(end)..end]
            .iter()
            .map(|p| shaped(p, &query, &variables))
            .collect();
        let more = end < listed.len();
        json_response(
            200,
            json!({"data": {"products": {
                "pageInfo": {"hasNextPage": more, "endCursor": format!("cursor:{end}")},
                "nodes": nodes}}, "extensions": cost(1990.0)}),
        )
    }
}

impl Endpoint for Serve {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or_default().to_string();
        let token = req
            .headers()
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = req.into_body().into_vec().await.unwrap_or_default();
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let Some((shop, rest)) = path.trim_start_matches('/').split_once('/') else {
            return Ok(json_response(404, json!({"errors": "Not Found"})));
        };
        Ok(match rest {
            "admin/oauth/authorize" => self.authorize(shop, &query),
            "admin/oauth/access_token" => self.token(shop, json),
            "admin/api/2026-10/graphql.json" => self.graphql(shop, token, json),
            _ => json_response(404, json!({"errors": "Not Found"})),
        })
    }
}

impl FakeShopify {
    /// Starts the fake with `products`, served `page_size` at a time.
    pub async fn start(products: Vec<Value>, page_size: usize) -> FakeShopify {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().cloned().unwrap();
        let state = Arc::new(Mutex::new(State {
            products,
            page_size,
            access_ttl: 3600,
            ..State::default()
        }));
        let serve = Serve {
            state: state.clone(),
        };
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(serve).await;
        });
        FakeShopify {
            base: format!("http://{addr}"),
            state,
            _server: server,
        }
    }

    /// The value of `OTOQ_SHOPIFY_ADMIN_BASE_URL` pointing at this fake.
    pub fn admin_base(&self) -> String {
        format!("{}/{{shop}}", self.base)
    }

    /// Revokes every access token issued so far (the refresh tokens still work).
    pub fn revoke_access_tokens(&self) {
        self.state.lock().unwrap().access.clear();
    }

    /// Revokes every refresh token issued so far.
    pub fn revoke_refresh_tokens(&self) {
        self.state.lock().unwrap().refresh.clear();
    }

    /// The next GraphQL requests get these throttling answers first.
    pub fn throttle(&self, answers: impl IntoIterator<Item = Throttle>) {
        self.state.lock().unwrap().throttles.extend(answers);
    }

    /// Replaces the catalog.
    pub fn set_products(&self, products: Vec<Value>) {
        self.state.lock().unwrap().products = products;
    }

    /// Changes one product of the catalog.
    pub fn edit_product(&self, id: u64, edit: impl FnOnce(&mut Value)) {
        let gid = format!("gid://shopify/Product/{id}");
        let mut s = self.state.lock().unwrap();
        let p = s
            .products
            .iter_mut()
            .find(|p| p["id"] == gid.as_str())
            .expect("product");
        edit(p);
    }

    /// Every GraphQL request so far.
    pub fn graphql_calls(&self) -> Vec<GraphqlCall> {
        self.state.lock().unwrap().graphql.clone()
    }

    /// Every token request body so far.
    pub fn token_requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().token_requests.clone()
    }

    /// The access tokens issued, oldest first.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }
}

impl Drop for FakeShopify {
    fn drop(&mut self) {
        self._server.abort();
    }
}

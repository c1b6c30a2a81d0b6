//! Outbound request guard: keeps fetches of user-supplied addresses away from this machine,
//! the private network and cloud metadata endpoints.
//!
//! Two layers: [`Guard::check_url`] before every request (and every redirect hop), and
//! [`GuardedResolver`] inside the HTTP client, so the connection only ever goes to an address
//! that was checked after resolution (no DNS-rebinding window). Literal-IP URLs never reach the
//! resolver, which is why every hop must pass `check_url` and the client never follows
//! redirects by itself.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why an outbound request was refused or failed, in words for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The scheme is not http or https.
    #[error("only http and https addresses can be fetched, not {0}:")]
    Scheme(String),
    /// The URL carries a user name or password.
    #[error("addresses containing a user name or password are not allowed")]
    Credentials,
    /// The URL has no host.
    #[error("the address has no host name")]
    NoHost,
    /// A literal IP address in a forbidden range.
    #[error("the address {ip} is {kind} and not allowed")]
    ForbiddenAddress { ip: IpAddr, kind: &'static str },
    /// A host name that resolves to a forbidden address.
    #[error("{host} points to {ip}, which is {kind} and not allowed")]
    ForbiddenName {
        host: String,
        ip: IpAddr,
        kind: &'static str,
    },
    /// The host name could not be resolved.
    #[error("could not find the server {host} ({detail})")]
    Resolve { host: String, detail: String },
    /// No connection could be made.
    #[error("could not connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    /// The server did not answer within the client's timeout.
    #[error("{host} took too long to answer")]
    Timeout { host: String },
    /// Any other failure of the request.
    #[error("the request to {host} failed: {detail}")]
    Request { host: String, detail: String },
    /// The redirect limit was exceeded.
    #[error("the page redirected more than {0} times")]
    TooManyRedirects(usize),
    /// A redirect pointed to something that is not a usable address.
    #[error("the page redirected to an invalid address ({0})")]
    BadRedirect(String),
}

/// Which outbound destinations are allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Guard {
    /// Skip every address check (tests, or a self-hosted install that must reach its intranet).
    pub allow_private: bool,
}

/// Whether `ip` must never be the target of an outbound request on behalf of a user.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    forbidden_kind(ip).is_some()
}

/// The kind of forbidden range `ip` is in ("private", "loopback", …), or None when it is public.
fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let kind = match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_broadcast() => "broadcast",
        (0, _, _) => "reserved",
        (127, _, _) => "loopback",
        (10, _, _) => "private",
        (172, 16..=31, _) => "private",
        (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        (192, 0, 0) => "reserved",
        (192, 88, 99) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "reserved for documentation",
        (198, 18..=19, _) => "reserved for benchmarking",
        _ => return None,
    };
    Some(kind)
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_kind(v4);
    }
    let s = ip.segments();
    let kind = match s[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0xff00..=0xffff => "multicast",
        0xfc00..=0xfdff => "private",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "private",
        0x2001 if s[1] == 0x0db8 => "reserved for documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "reserved",
        _ => return None,
    };
    Some(kind)
}

/// The IPv4 address an IPv6 address stands for, when it is one of the forms that reach IPv4
/// hosts (mapped, compatible, SIIT, NAT64, 6to4).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT)
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are judged as IPv6 first
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_unspecified() && !ip.is_loopback() => Some(low),
        // 64:ff9b::/96 (well-known NAT64) and 64:ff9b:1::/48 (local-use NAT64)
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, ..] => Some(low),
        // 2002:AABB:CCDD::/48 (6to4)
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

impl Guard {
    /// Refuses `ip` when it is in a forbidden range (unless private addresses are allowed).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), GuardError> {
        match forbidden_kind(ip) {
            Some(kind) if !self.allow_private => Err(GuardError::ForbiddenAddress { ip, kind }),
            _ => Ok(()),
        }
    }

    /// Checks everything about `url` that needs no DNS: scheme, credentials, host, literal IPs.
    /// Returns the host name still to be resolved, if the host is a name.
    pub fn check_url_syntax<'a>(&self, url: &'a Url) -> Result<Option<&'a str>, GuardError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(GuardError::Scheme(url.scheme().to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(GuardError::Credentials);
        }
        // The url crate has already turned decimal, octal and hex IPv4 forms into Host::Ipv4.
        match url.host() {
            None => Err(GuardError::NoHost),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)).map(|()| None),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)).map(|()| None),
            Some(Host::Domain("")) => Err(GuardError::NoHost),
            Some(Host::Domain(name)) => Ok(Some(name)),
        }
    }

    /// Refuses `url` unless it is http(s) without credentials and every address of its host is allowed.
    pub async fn check_url(&self, url: &Url) -> Result<(), GuardError> {
        let Some(host) = self.check_url_syntax(url)? else {
            return Ok(());
        };
        if self.allow_private {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs = lookup(host, port).await?;
        self.check_resolved(host, addrs.iter().map(SocketAddr::ip))
    }

    /// Refuses a resolved host when any of its addresses is forbidden or it has none.
    fn check_resolved(
        &self,
        host: &str,
        ips: impl IntoIterator<Item = IpAddr>,
    ) -> Result<(), GuardError> {
        let mut any = false;
        for ip in ips {
            any = true;
            if let Some(kind) = forbidden_kind(ip).filter(|_| !self.allow_private) {
                return Err(GuardError::ForbiddenName {
                    host: host.to_string(),
                    ip,
                    kind,
                });
            }
        }
        if any {
            Ok(())
        } else {
            Err(GuardError::Resolve {
                host: host.to_string(),
                detail: "the name has no addresses".into(),
            })
        }
    }
}

async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, GuardError> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => Err(GuardError::Resolve {
            host: host.to_string(),
            detail: e.to_string(),
        }),
    }
}

/// A reqwest DNS resolver that refuses names resolving to any forbidden address.
#[derive(Clone, Copy, Debug, Default)]
pub struct GuardedResolver {
    /// The guard whose rules apply.
    pub guard: Guard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = lookup(&host, 0).await?;
            guard.check_resolved(&host, addrs.iter().map(SocketAddr::ip))?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for user-supplied addresses: guarded DNS, no proxy, no automatic redirects, rustls.
pub fn http_client(guard: &Guard, timeout: Duration, user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { guard: *guard }))
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the target itself, behind the resolver's back.
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(user_agent)
        .tls_backend_rustls()
        .build()
        .expect("the HTTP client could not be built (TLS initialisation failed)")
}

/// GETs `url`, following up to `max_redirects` redirects and checking every hop with `guard`.
/// Returns the final URL and its response (whatever its status).
pub async fn get_following_redirects(
    client: &reqwest::Client,
    guard: &Guard,
    url: &Url,
    max_redirects: usize,
) -> Result<(Url, reqwest::Response), GuardError> {
    follow(client, url, max_redirects, |hop| async move {
        guard.check_url(&hop).await
    })
    .await
}

async fn follow<F, Fut>(
    client: &reqwest::Client,
    url: &Url,
    max_redirects: usize,
    check: F,
) -> Result<(Url, reqwest::Response), GuardError>
where
    F: Fn(Url) -> Fut,
    Fut: Future<Output = Result<(), GuardError>>,
{
    let mut current = url.clone();
    let mut hops = 0;
    loop {
        check(current.clone()).await?;
        let response = client
            .get(current.clone())
            .send()
            .await
            .map_err(|e| request_error(&current, &e))?;
        let Some(next) = redirect_target(&current, &response)? else {
            return Ok((current, response));
        };
        if hops == max_redirects {
            return Err(GuardError::TooManyRedirects(max_redirects));
        }
        hops += 1;
        current = next;
    }
}

/// Where a redirect response points, resolved against the URL that produced it.
fn redirect_target(current: &Url, response: &reqwest::Response) -> Result<Option<Url>, GuardError> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = response.headers().get(reqwest::header::LOCATION) else {
        return Ok(None);
    };
    let location = location
        .to_str()
        .map_err(|_| GuardError::BadRedirect("the Location header is not text".into()))?;
    let mut next = current
        .join(location.trim())
        .map_err(|e| GuardError::BadRedirect(format!("{location}: {e}")))?;
    next.set_fragment(None);
    Ok(Some(next))
}

/// Describes a failed request for a person; a refusal by the resolver comes back as itself.
pub fn request_error(url: &Url, err: &reqwest::Error) -> GuardError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut root = err.to_string();
    while let Some(e) = source {
        if let Some(guard_error) = e.downcast_ref::<GuardError>() {
            return guard_error.clone();
        }
        root = e.to_string();
        source = e.source();
    }
    let host = url.host_str().unwrap_or("the server").to_string();
    if err.is_timeout() {
        GuardError::Timeout { host }
    } else if err.is_connect() {
        GuardError::Connect { host, detail: root }
    } else {
        GuardError::Request { host, detail: root }
    }
}

#[cfg(test)]
mod tests;

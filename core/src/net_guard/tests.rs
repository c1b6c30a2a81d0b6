//! Tests of `net_guard`.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DENY: Guard = Guard {
    allow_private: false,
};
const ALLOW: Guard = Guard {
    allow_private: true,
};

#[test]
fn forbidden_ranges() {
    let forbidden = [
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.5",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.1",
        "240.0.0.1",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:0:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
    ];
    for ip in forbidden {
        assert!(
            is_forbidden_ip(ip.parse().unwrap()),
            "{ip} should be forbidden"
        );
    }
    let allowed = [
        "8.8.8.8",
        "1.1.1.1",
        "172.15.255.255",
        "172.32.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.1.1",
        "192.169.0.1",
        "2606:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ];
    for ip in allowed {
        assert!(
            !is_forbidden_ip(ip.parse().unwrap()),
            "{ip} should be allowed"
        );
    }
}

#[test]
fn url_crate_normalises_numeric_hosts_to_ipv4() {
    for raw in [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://127.0.0.1./",
    ] {
        let url = Url::parse(raw).unwrap();
        assert_eq!(url.host(), Some(Host::Ipv4(Ipv4Addr::LOCALHOST)), "{raw}");
    }
}

#[tokio::test]
async fn literal_addresses_are_checked_without_dns() {
    let refused = [
        ("http://127.0.0.1/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.5/", "private"),
        ("https://172.16.4.4/", "private"),
        ("http://192.168.0.1:8080/", "private"),
        ("http://100.64.1.1/", "shared (carrier-grade NAT)"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://[fc00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
    ];
    for (raw, kind) in refused {
        let url = Url::parse(raw).unwrap();
        match DENY.check_url(&url).await {
            Err(GuardError::ForbiddenAddress { kind: k, .. }) => assert_eq!(k, kind, "{raw}"),
            other => panic!("{raw}: expected refusal, got {other:?}"),
        }
    }
    for raw in ["http://8.8.8.8/", "https://[2606:4700::1111]/x"] {
        DENY.check_url(&Url::parse(raw).unwrap()).await.unwrap();
    }
}

#[tokio::test]
async fn messages_are_readable() {
    let err = DENY
        .check_url(&Url::parse("http://10.0.0.5/").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the address 10.0.0.5 is private and not allowed"
    );
    let err = DENY
        .check_url(&Url::parse("ftp://example.com/").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "only http and https addresses can be fetched, not ftp:"
    );
}

#[tokio::test]
async fn scheme_credentials_and_names() {
    for raw in ["file:///etc/passwd", "ftp://example.com/", "gopher://x/"] {
        let err = DENY.check_url(&Url::parse(raw).unwrap()).await.unwrap_err();
        assert!(matches!(err, GuardError::Scheme(_)), "{raw}: {err:?}");
    }
    let err = DENY
        .check_url(&Url::parse("http://user:pw@example.com/").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err, GuardError::Credentials);
    let err = DENY
        .check_url(&Url::parse("http://localhost:8080/").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuardError::ForbiddenName {
                kind: "loopback",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn allow_private_lets_loopback_through() {
    for raw in ["http://127.0.0.1:9/", "http://[::1]/", "http://localhost/"] {
        ALLOW.check_url(&Url::parse(raw).unwrap()).await.unwrap();
    }
    assert!(
        ALLOW
            .check_url(&Url::parse("ftp://127.0.0.1/").unwrap())
            .await
            .is_err()
    );
}

/// Serves `routes` (path → raw response head and body) on 127.0.0.1 until the test ends.
async fn serve(routes: Vec<(&'static str, String)>) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let reply = routes
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| "HTTP/1.1 404 Not Found\r\ncontent-length: 0".into());
                let _ = socket
                    .write_all(format!("{reply}\r\nconnection: close\r\n\r\n").as_bytes())
                    .await;
            });
        }
    });
    base
}

fn redirect(location: &str) -> String {
    format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0")
}

#[tokio::test]
async fn follows_redirects_and_reports_the_final_url() {
    let base = serve(vec![
        ("/a", redirect("/b")),
        ("/b", redirect("c?x=1#frag")),
        ("/c?x=1", "HTTP/1.1 200 OK\r\ncontent-length: 0".into()),
    ])
    .await;
    let client = http_client(&ALLOW, Duration::from_secs(5), "test");
    let (last, response) = get_following_redirects(&client, &ALLOW, &base.join("a").unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(last, base.join("c?x=1").unwrap());
    assert_eq!(response.status(), 200);

    let err = get_following_redirects(&client, &ALLOW, &base.join("a").unwrap(), 1)
        .await
        .unwrap_err();
    assert_eq!(err, GuardError::TooManyRedirects(1));
}

#[tokio::test]
async fn a_redirect_to_a_forbidden_address_is_refused_before_connecting() {
    let base = serve(vec![
        (
            "/meta",
            redirect("http://169.254.169.254/latest/meta-data/"),
        ),
        ("/mapped", redirect("http://[::ffff:7f00:1]:1/")),
        ("/fine", "HTTP/1.1 200 OK\r\ncontent-length: 0".into()),
    ])
    .await;
    let client = http_client(&ALLOW, Duration::from_secs(5), "test");
    // The test server itself is on loopback: allow exactly its origin, judge the rest strictly.
    let origin = base.origin();
    let check = |hop: Url| {
        let origin = origin.clone();
        async move {
            if hop.origin() == origin {
                Ok(())
            } else {
                DENY.check_url(&hop).await
            }
        }
    };
    let err = follow(&client, &base.join("meta").unwrap(), 5, check)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the address 169.254.169.254 is link-local and not allowed"
    );
    let err = follow(&client, &base.join("mapped").unwrap(), 5, check)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GuardError::ForbiddenAddress {
                kind: "loopback",
                ..
            }
        ),
        "{err:?}"
    );
    let (last, _) = follow(&client, &base.join("fine").unwrap(), 5, check)
        .await
        .unwrap();
    assert_eq!(last.path(), "/fine");
}

#[tokio::test]
async fn the_resolver_refuses_names_of_forbidden_addresses() {
    let base = serve(vec![("/", "HTTP/1.1 200 OK\r\ncontent-length: 0".into())]).await;
    let by_name = Url::parse(&format!("http://localhost:{}/", base.port().unwrap())).unwrap();
    // Straight to the client, bypassing check_url: the resolver alone must refuse.
    let client = http_client(&DENY, Duration::from_secs(5), "test");
    let err = client.get(by_name.clone()).send().await.unwrap_err();
    let err = request_error(&by_name, &err);
    assert!(
        matches!(&err, GuardError::ForbiddenName { host, kind: "loopback", .. } if host == "localhost"),
        "{err:?}"
    );
    let client = http_client(&ALLOW, Duration::from_secs(5), "test");
    assert_eq!(client.get(by_name).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn connection_failures_are_described() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let client = http_client(&ALLOW, Duration::from_secs(5), "test");
    let err = get_following_redirects(&client, &ALLOW, &url, 5)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("could not connect to 127.0.0.1: Connection refused"),
        "{err}"
    );
}

//! The HTTP server: the poem app served by hyper under connection limits — a header-read
//! timeout (which also ends idle keep-alive connections), an inactivity timeout, a cap on
//! concurrent connections (more are refused with a JSON 503) and a cap on a request's head
//! (answered with the JSON error envelope, see [`envelope`]).

mod envelope;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use otoq_core::config::ServerLimits;
use poem::listener::Acceptor;
use poem::{Endpoint, EndpointExt, IntoEndpoint};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, watch};

type Body = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// How long a refused connection gets to receive its 503.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long running requests get to finish after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `acceptor` until `stop` completes, then lets running requests finish.
pub async fn serve<A, E>(
    mut acceptor: A,
    app: E,
    limits: ServerLimits,
    stop: impl Future<Output = ()>,
) where
    A: Acceptor,
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let ep = Arc::new(app.into_endpoint().map_to_response());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_rx) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            a = acceptor.accept() => a,
        };
        let (io, local, remote, scheme) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors, usually: back off instead of spinning.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(io));
            continue;
        };
        let ep = ep.clone();
        let limits = limits.clone();
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let activity = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let io = envelope::Io::new(io, activity.clone(), started);
            let peer = remote.clone();
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let ep = ep.clone();
                    let req =
                        poem::Request::from((req, local.clone(), remote.clone(), scheme.clone()));
                    async move {
                        let resp = ep.get_response(req).await;
                        Ok::<_, Infallible>(hyper::Response::<Body>::from(resp))
                    }
                });
            let mut builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(limits.max_header_bytes)
                .max_headers(100);
            builder
                .http2()
                .timer(hyper_util::rt::TokioTimer::new())
                .max_header_list_size(limits.max_header_bytes as u32)
                .max_concurrent_streams(100)
                .keep_alive_interval(Some(limits.idle_timeout / 2))
                .keep_alive_timeout(Duration::from_secs(20));
            let conn =
                builder.serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(io), service);
            tokio::pin!(conn);
            let stop_reason = loop {
                let deadline =
                    tokio::time::Instant::from_std(started + quiet_limit(&activity, &limits));
                tokio::select! {
                    _ = &mut conn => break None,
                    _ = closing.wait_for(|c| *c) => break Some("shutdown"),
                    _ = tokio::time::sleep_until(deadline) => {
                        if started.elapsed() >= quiet_limit(&activity, &limits) {
                            break Some("idle");
                        }
                    }
                }
            };
            match stop_reason {
                Some("idle") => {
                    tracing::debug!(remote = %peer, "closing an inactive connection");
                }
                Some(_) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
                }
                None => {}
            }
            drop(permit);
        });
    }
    drop(acceptor);
    let _ = closing.send(true);
    let all = limits.max_connections as u32;
    let _ = tokio::time::timeout(
        SHUTDOWN_GRACE + Duration::from_secs(1),
        slots.acquire_many(all),
    )
    .await;
}

/// Time since the connection opened after which it is closed for silence: the header-read
/// timeout while the client has sent nothing at all (hyper's own timer starts only once it has
/// seen the protocol), else the idle timeout after the last traffic.
fn quiet_limit(activity: &AtomicU64, limits: &ServerLimits) -> Duration {
    match activity.load(Ordering::Relaxed) {
        0 => limits.header_read_timeout,
        last => Duration::from_millis(last - 1) + limits.idle_timeout,
    }
}

/// Answers a connection over the limit with a JSON 503 and closes it.
async fn refuse<Io: tokio::io::AsyncWrite + Unpin>(mut io: Io) {
    let body = format!(
        r#"{{"error":"{}","message":"the server has too many open connections; try again in a moment"}}"#,
        otoq_api::error::ErrorCode::ServerBusy.as_str()
    );
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        io.write_all(head.as_bytes()).await?;
        io.write_all(body.as_bytes()).await?;
        io.shutdown().await
    };
    let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, write).await;
}

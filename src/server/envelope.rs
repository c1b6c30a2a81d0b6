//! The connection's IO as the server sees it: it records when the client last sent or received
//! anything (for the inactivity timeout), and gives hyper's own bodiless error answers to
//! malformed requests (400, 408, 413, 414, 431) the JSON error envelope.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use otoq_api::error::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A client connection's socket with activity tracking and error rewriting.
pub struct Io<T> {
    inner: T,
    activity: Arc<AtomicU64>,
    started: Instant,
    /// Bytes still to be written in place of what hyper wrote.
    pending: Vec<u8>,
}

impl<T> Io<T> {
    pub fn new(inner: T, activity: Arc<AtomicU64>, started: Instant) -> Self {
        Io {
            inner,
            activity,
            started,
            pending: Vec::new(),
        }
    }

    /// Records traffic now (milliseconds since the start, plus one: 0 means none yet).
    fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64 + 1;
        self.activity.store(ms, Ordering::Relaxed);
    }
}

/// The JSON answer replacing hyper's bodiless one, when `head` is such an answer.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let end = text.find("\r\n\r\n")?;
    if end + 4 != text.len() {
        return None;
    }
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    let lower = text.to_ascii_lowercase();
    if !lower.contains("\r\ncontent-length: 0\r\n") || lower.contains("\r\ncontent-type:") {
        return None;
    }
    let (code, message) = match status {
        "400" => (ErrorCode::ValidationError, "the request is not valid HTTP"),
        "408" => (
            ErrorCode::Timeout,
            "the request's headers did not arrive in time",
        ),
        "413" => (ErrorCode::PayloadTooLarge, "the request is too large"),
        "414" => (ErrorCode::ValidationError, "the request line is too long"),
        "431" => (
            ErrorCode::ValidationError,
            "the request's headers are too large",
        ),
        _ => return None,
    };
    let code = code.as_str();
    let reason = text[..text.find("\r\n")?].to_string();
    let body = format!(r#"{{"error":"{code}","message":"{message}"}}"#);
    Some(
        format!(
            "{reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> Io<T> {
    /// Writes what is pending; Ready(Ok) once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Io<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Io<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        self.touch();
        if buf.starts_with(b"HTTP/1.1 4")
            && let Some(replacement) = rewrite(buf)
        {
            self.pending = replacement;
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.drain(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn only_bodiless_errors_are_rewritten() {
        let hyper =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(hyper).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(out.ends_with(
            r#"{"error":"validation_error","message":"the request's headers are too large"}"#
        ));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ours).is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}

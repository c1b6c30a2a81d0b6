//! A local SMTP server (RFC 5321, no TLS, no auth) that records every message it accepts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// One message the server accepted.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section, dot-unstuffed, CRLF line endings as received.
    pub data: String,
}

/// Splits an entity into its header section and its body.
fn split_entity(entity: &str) -> (&str, &str) {
    if let Some(i) = entity.find("\r\n\r\n") {
        return (&entity[..i], &entity[i + 4..]);
    }
    entity
        .find("\n\n")
        .map_or((entity, ""), |i| (&entity[..i], &entity[i + 2..]))
}

/// Unfolded headers, in order, with encoded words (RFC 2047) decoded.
fn parse_headers(section: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in section.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim_start());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_string(), value.to_string()));
        }
    }
    out.into_iter()
        .map(|(n, v)| (n, decode_words(v.trim())))
        .collect()
}

/// The first header called `name` (case-insensitive).
fn find_header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?utf-8?Q?...?=`) in a header value.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, token) in value.split(' ').enumerate() {
        let decoded = decode_word(token);
        // Whitespace between two adjacent encoded words is not part of the text.
        if i > 0 && !(prev_encoded && decoded.is_some()) {
            out.push(' ');
        }
        out.push_str(decoded.as_deref().unwrap_or(token));
        prev_encoded = decoded.is_some();
    }
    out
}

/// One encoded word, if `token` is one.
fn decode_word(token: &str) -> Option<String> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut fields = inner.splitn(3, '?');
    let (_charset, encoding, text) = (fields.next()?, fields.next()?, fields.next()?);
    let bytes = match encoding {
        "B" | "b" => base64_decode(text),
        "Q" | "q" => qp_decode(&text.replace('_', " ")),
        _ => return None,
    };
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Decodes quoted-printable: soft line breaks and `=XX` escapes.
pub fn qp_decode(text: &str) -> Vec<u8> {
    let text = text.replace("=\r\n", "").replace("=\n", "");
    let b = text.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let (mut out, mut i) = (Vec::with_capacity(b.len()), 0);
    while i < b.len() {
        if let (b'=', Some(h), Some(l)) = (b[i], hex(i + 1), hex(i + 2)) {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes base64 (whitespace ignored, stops at padding).
pub fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'=' => break,
            b'-' => 62,
            b'_' => 63,
            _ => match ALPHABET.iter().position(|&a| a == c) {
                Some(v) => v as u32,
                None => continue,
            },
        };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The `boundary` parameter of a Content-Type value.
fn boundary(content_type: &str) -> Option<String> {
    let at = content_type.to_ascii_lowercase().find("boundary=")? + "boundary=".len();
    let value = &content_type[at..];
    Some(match value.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?.to_string(),
        None => value.split([';', ' ', '\t']).next()?.to_string(),
    })
}

/// The parts of a multipart body, each an entity with CRLF line endings.
fn multipart_parts(body: &str, boundary: &str) -> Vec<String> {
    let (open, close) = (format!("--{boundary}"), format!("--{boundary}--"));
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in body.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.trim_end() == open || line.trim_end() == close {
            parts.extend(current.take().map(|p| p.join("\r\n")));
            if line.trim_end() == close {
                break;
            }
            current = Some(Vec::new());
        } else if let Some(part) = current.as_mut() {
            part.push(line);
        }
    }
    parts
}

/// The decoded text of an entity; inside a multipart only text/plain and text/html count.
fn entity_text(entity: &str, top: bool) -> String {
    let (section, body) = split_entity(entity);
    let headers = parse_headers(section);
    let content_type = find_header(&headers, "content-type").unwrap_or("text/plain".into());
    let kind = content_type.to_ascii_lowercase();
    if let Some(b) = boundary(&content_type).filter(|_| kind.starts_with("multipart/")) {
        let texts: Vec<String> = multipart_parts(body, &b)
            .iter()
            .map(|p| entity_text(p, false))
            .filter(|t| !t.is_empty())
            .collect();
        return texts.join("\r\n");
    }
    if !top && !kind.starts_with("text/plain") && !kind.starts_with("text/html") {
        return String::new();
    }
    let encoding = find_header(&headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding.trim() {
        "quoted-printable" => qp_decode(body),
        "base64" => base64_decode(body),
        _ => return body.to_string(),
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Mail {
    /// The header `name` (case-insensitive), unfolded, with encoded words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        find_header(&parse_headers(split_entity(&self.data).0), name)
    }

    /// The decoded body; for multipart messages the text/plain and text/html parts joined.
    pub fn body_text(&self) -> String {
        entity_text(&self.data, true)
    }

    /// The message's decoded text: unfolded, decoded headers, a blank line, the decoded body.
    pub fn text(&self) -> String {
        let headers: Vec<String> = parse_headers(split_entity(&self.data).0)
            .into_iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        format!("{}\r\n\r\n{}", headers.join("\r\n"), self.body_text())
    }
}

/// What the server has accepted and how many transactions it still refuses.
#[derive(Default)]
struct State {
    mails: Vec<Mail>,
    fail: usize,
}

type Shared = Arc<Mutex<State>>;

/// A local SMTP server (no TLS, no auth) recording every accepted message; stops when dropped.
pub struct SmtpServer {
    pub url: String,
    pub addr: SocketAddr,
    state: Shared,
    _server: tokio::task::JoinHandle<()>,
}

/// The address in `FROM:<a@b> PARAMS` / `TO:<a@b>` after `prefix`.
fn parse_path(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start().strip_prefix('<')?;
    Some(rest[..rest.find('>')?].to_string())
}

/// The lines after DATA up to the lone ".", dot-unstuffed; `None` if the client hung up.
async fn read_data(read: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<Vec<u8>>> {
    let (mut data, mut line) = (Vec::new(), Vec::new());
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
    }
}

/// One client connection: any number of transactions until QUIT or EOF.
async fn session(stream: TcpStream, state: Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"220 localhost ESMTP otoq-test\r\n")
        .await?;
    let (mut from, mut to) = (None::<String>, Vec::<String>::new());
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
        let verb = verb.to_ascii_uppercase();
        if ["EHLO", "HELO", "RSET", "MAIL"].contains(&verb.as_str()) {
            (from, to) = (None, Vec::new());
        }
        let reply = match verb.as_str() {
            "EHLO" => {
                "250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n\
                 250 PIPELINING"
            }
            "HELO" => "250 localhost",
            "MAIL" => match parse_path(arg, "FROM:") {
                Some(address) => {
                    from = Some(address);
                    "250 2.1.0 OK"
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>",
            },
            "RCPT" if from.is_none() => "503 5.5.1 MAIL first",
            "RCPT" => match parse_path(arg, "TO:") {
                Some(address) => {
                    to.push(address);
                    "250 2.1.5 OK"
                }
                None => "501 5.5.4 Syntax: RCPT TO:<address>",
            },
            "DATA" if to.is_empty() => "503 5.5.1 RCPT first",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(data) = read_data(&mut read).await? else {
                    return Ok(());
                };
                let mail = Mail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data: String::from_utf8_lossy(&data).into_owned(),
                };
                let mut st = state.lock().unwrap();
                if st.fail > 0 {
                    st.fail -= 1;
                    "451 4.3.0 try again later"
                } else {
                    st.mails.push(mail);
                    "250 2.0.0 OK queued"
                }
            }
            "RSET" | "NOOP" => "250 2.0.0 OK",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            "" => "500 5.5.2 Syntax error",
            _ => "502 5.5.1 Command not implemented",
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

impl SmtpServer {
    /// Starts on 127.0.0.1:0 in a background task.
    pub async fn start() -> SmtpServer {
        let state = Shared::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = state.clone();
        let server = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) ends every open session.
            let mut sessions = JoinSet::new();
            loop {
                while sessions.try_join_next().is_some() {}
                if let Ok((stream, _)) = listener.accept().await {
                    sessions.spawn(session(stream, shared.clone()));
                }
            }
        });
        SmtpServer {
            url: format!("smtp://{addr}"),
            addr,
            state,
            _server: server,
        }
    }

    /// The next `n` transactions are refused at DATA end with "451 4.3.0", not recorded.
    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail = n;
    }

    /// Every accepted message so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        self.state.lock().unwrap().mails.clone()
    }

    /// Waits up to `timeout` until at least `n` messages arrived; returns them (panics on timeout).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.messages();
            if mails.len() >= n {
                return mails;
            }
            let subjects: Vec<_> = mails.iter().map(|m| m.header("subject")).collect();
            assert!(
                Instant::now() < deadline,
                "SMTP stand-in: expected {n} message(s) within {timeout:?}, got {subjects:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self._server.abort();
    }
}

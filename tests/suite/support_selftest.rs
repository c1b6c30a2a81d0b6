//! The test stand-ins themselves: the LLM server and the SMTP server speak their protocols.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::llm::{LlmServer, pieces};
use crate::support::smtp::{Mail, SmtpServer};

fn chat(stream: bool, prompt: &str) -> Value {
    json!({"model": "gpt-test", "temperature": 0.2, "max_tokens": 50, "stream": stream,
           "messages": [{"role": "system", "content": "Be brief."},
                        {"role": "user", "content": prompt}]})
}

#[test]
fn llm_pieces_rebuild_the_text() {
    assert_eq!(pieces("Hello world!"), ["Hello", " world", "!"]);
    for text in ["", "  a  b ", "I don't know.", "Ünïcode — ok?\nNext line "] {
        assert_eq!(pieces(text).concat(), text);
    }
}

#[tokio::test]
async fn llm_answers_like_openai() {
    let llm = LlmServer::start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", llm.url);
    let r = client
        .post(&url)
        .bearer_auth("sk-test")
        .json(&chat(false, "Hi"))
        .send()
        .await;
    let body: Value = r.unwrap().json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-test");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["choices"][0]["message"]["content"], "I don't know.");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let usage = &body["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(llm.last_authorization().as_deref(), Some("Bearer sk-test"));

    llm.reply("Fixed.");
    llm.fail_next(1);
    let r = client
        .post(&url)
        .json(&chat(false, "again"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let err: Value = r.json().await.unwrap();
    assert!(err["error"]["message"].is_string(), "{err}");
    let r = client
        .post(&url)
        .json(&chat(false, "again"))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Fixed.");
    assert_eq!(llm.calls(), 3);
    assert_eq!(llm.requests()[2]["messages"][1]["content"], "again");
    assert_eq!(llm.last_authorization(), None);

    let r = client
        .get(format!("{}/models/nope", llm.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"].is_object());
}

#[tokio::test]
async fn llm_streams_server_sent_events() {
    let llm = LlmServer::start().await;
    llm.respond_with(|req| {
        let prompt = req["messages"][1]["content"].as_str().unwrap_or_default();
        if prompt.contains("sentiment") {
            "positive".into()
        } else {
            "Hello world! Our store opens at 9 a.m.".into()
        }
    });
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", llm.url);
    let r = client
        .post(&url)
        .json(&chat(true, "When?"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut stream = r.bytes_stream();
    let (mut buf, mut events) = (String::new(), Vec::new());
    let mut reads = 0;
    while let Some(chunk) = stream.next().await {
        reads += 1;
        buf.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let event = buf[..end].strip_prefix("data: ").unwrap().to_string();
            buf.drain(..end + 2);
            events.push(event);
        }
    }
    assert!(reads > 2, "events arrive separately ({reads} reads)");
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello world! Our store opens at 9 a.m.");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));

    let r = client
        .post(&url)
        .json(&chat(false, "sentiment?"))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "positive");
}

/// Reads one (possibly multi-line) SMTP reply and returns its lines.
async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).await.unwrap() > 0, "connection open");
        let done = line.as_bytes().get(3) == Some(&b' ');
        lines.push(line.trim_end().to_string());
        if done {
            return lines;
        }
    }
}

#[tokio::test]
async fn smtp_records_a_dialogue() {
    let smtp = SmtpServer::start().await;
    assert_eq!(smtp.url, format!("smtp://{}", smtp.addr));
    let (read, mut w) = TcpStream::connect(smtp.addr).await.unwrap().into_split();
    let mut r = BufReader::new(read);
    assert!(reply(&mut r).await[0].starts_with("220 "));
    let mut say = async |w: &mut tokio::net::tcp::OwnedWriteHalf, line: &str| {
        w.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        reply(&mut r).await
    };
    let ehlo = say(&mut w, "EHLO client.test").await;
    assert!(ehlo.len() > 1 && ehlo.iter().all(|l| l.starts_with("250")));
    assert!(
        !ehlo
            .iter()
            .any(|l| l.contains("STARTTLS") || l.contains("AUTH"))
    );
    let mail = "MAIL FROM:<bot@otoq.test> BODY=8BITMIME SMTPUTF8";
    assert!(say(&mut w, mail).await[0].starts_with("250"));
    assert!(say(&mut w, "RCPT TO:<a@example.com>").await[0].starts_with("250"));
    assert!(say(&mut w, "RCPT TO:<b@example.com>").await[0].starts_with("250"));
    assert!(say(&mut w, "DATA").await[0].starts_with("354"));
    let data = "Subject: =?utf-8?B?Q2Fmw6kgb3BlbmluZw==?=\r\nX-Long: one\r\n two\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\
                Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                Caf=C3=A9 hours are=\r\n long.\r\n..leading dot\r\n.";
    assert!(say(&mut w, data).await[0].starts_with("250"));

    smtp.fail_next(1);
    assert!(say(&mut w, "NOOP").await[0].starts_with("250"));
    assert!(say(&mut w, "MAIL FROM:<bot@otoq.test>").await[0].starts_with("250"));
    assert!(say(&mut w, "RCPT TO:<a@example.com>").await[0].starts_with("250"));
    assert!(say(&mut w, "DATA").await[0].starts_with("354"));
    assert!(say(&mut w, "Subject: x\r\n\r\nnope\r\n.").await[0].starts_with("451"));
    assert!(say(&mut w, "RSET").await[0].starts_with("250"));
    assert!(say(&mut w, "DATA").await[0].starts_with("503"));
    assert!(say(&mut w, "WHAT now").await[0].starts_with("502"));
    assert!(say(&mut w, "QUIT").await[0].starts_with("221"));

    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.from, "bot@otoq.test");
    assert_eq!(m.to, ["a@example.com", "b@example.com"]);
    assert!(
        m.data.ends_with("long.\r\n.leading dot\r\n"),
        "{:?}",
        m.data
    );
    assert_eq!(m.header("SUBJECT").as_deref(), Some("Café opening"));
    assert_eq!(m.header("x-long").as_deref(), Some("one two"));
    assert_eq!(m.body_text(), "Café hours are long.\r\n.leading dot\r\n");
    assert!(m.text().contains("Subject: Café opening") && m.text().contains("Café hours"));
}

#[test]
fn mail_decodes_multipart_base64() {
    let m = Mail {
        from: "a@b".into(),
        to: vec!["c@d".into()],
        data: "Content-Type: multipart/alternative;\r\n boundary=\"XYZ\"\r\n\r\n\
               preamble\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\
               Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gcGxhaW4g\r\nd29ybGQ=\r\n\
               --XYZ\r\nContent-Type: text/html\r\n\r\n<p>Hello html</p>\r\n\
               --XYZ\r\nContent-Type: image/png\r\n\r\nAAAA\r\n--XYZ--\r\n"
            .into(),
    };
    let body = m.body_text();
    assert!(body.contains("Hello plain world"), "{body}");
    assert!(body.contains("<p>Hello html</p>"), "{body}");
    assert!(!body.contains("AAAA"), "{body}");
}

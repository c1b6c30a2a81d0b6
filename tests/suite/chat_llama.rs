//! Chat against a real local LLM (llama.cpp's `llama-server` with SmolLM2-135M-Instruct): a small
//! model answers from the passages without citation markers, out-of-scope questions never reach
//! it, and a streamed reply is exactly the final one. The protocol stand-in tests stay in chat.rs.

use serde_json::{Value, json};

use super::chat::{ask, stream_chat};
use crate::both_backends;
use crate::support::llama::Llama;
use crate::support::{Backend, TestApp, spawn_app_with};

both_backends!(
    real_llm_answers_bakery_questions_with_the_fact,
    real_llm_is_never_asked_out_of_scope_questions,
    real_llm_streams_exactly_the_final_reply
);

/// The bakery's one text source: five facts.
const BAKERY: &str = "Sunrise Bakery is at 12 Mill Street in Porto. \
    The bakery opens at 7:00 and closes at 18:00, Tuesday to Sunday; it is closed on Mondays. \
    A loaf of sourdough bread costs $6.50. \
    Birthday cakes must be ordered at least 3 days in advance. \
    Delivery is free for orders over $30.";

/// Answerable questions and the fact each reply must hold.
const ANSWERABLE: [(&str, &str); 5] = [
    ("How much does a loaf of sourdough bread cost?", "6.50"),
    ("What time does the bakery open?", "7:00"),
    ("Where is the bakery?", "Mill Street"),
    (
        "How many days in advance must I order a birthday cake?",
        "3 days",
    ),
    ("When is delivery free?", "$30"),
];

/// Questions the bakery's knowledge cannot answer.
const OUT_OF_SCOPE: [&str; 3] = [
    "What is the capital of Australia?",
    "Can you help me fix the brakes on my car?",
    "Who won the football world cup in 1998?",
];

/// The app on the real model, a pro key and the bakery agent.
async fn bakery(b: Backend, llama: &Llama) -> (TestApp, String, String) {
    let url = llama.url.clone();
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
        e.set("OTOQ_LLM_BASE_URL", url);
        e.set("OTOQ_LLM_MODEL", "SmolLM2-135M-Instruct");
        e.set("OTOQ_LLM_TIMEOUT_SECS", "180");
    })
    .await;
    let key = app.pro_key().await;
    let agent = app.create_agent(&key, "Sunny").await;
    let agent_id = agent["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            &key,
            json!({"type": "text", "title": "Sunrise Bakery", "content": BAKERY}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let s = app
        .settled_source(&key, r.body["data"]["id"].as_str().unwrap())
        .await;
    assert_eq!(s["status"], "ready", "{s}");
    (app, key, agent_id)
}

/// Requests that asked the model to answer (not the sentiment job's).
fn answer_calls(llama: &Llama) -> Vec<Value> {
    llama
        .requests()
        .into_iter()
        .filter(|r| !r.to_string().contains("classify the overall sentiment"))
        .collect()
}

async fn real_llm_answers_bakery_questions_with_the_fact(b: Backend) {
    let Some(llama) = Llama::start().await else {
        return;
    };
    let (app, key, agent_id) = bakery(b, &llama).await;
    let mut answered = Vec::new();
    let mut log = Vec::new();
    for (question, fact) in ANSWERABLE {
        let r = ask(&app, &key, &agent_id, None, question).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let d = &r.body["data"];
        let text = d["response"].as_str().unwrap().to_string();
        if d["answered"] == true {
            // A kept answer is cited with the passage that supports it.
            assert_eq!(d["sources"][0]["title"], "Sunrise Bakery", "{d}");
            if text.contains(fact) {
                answered.push(question);
            }
        } else {
            assert!(text.contains("don't have"), "{question}: {text}");
        }
        log.push(format!("{question} -> answered={} {text:?}", d["answered"]));
    }
    eprintln!("{}", log.join("\n"));
    assert!(
        answered.len() >= 3,
        "{}/5 answered with the fact:\n{}",
        answered.len(),
        log.join("\n")
    );
    // Each question was asked of the model once, with the passage in the prompt.
    let calls = answer_calls(&llama);
    assert_eq!(calls.len(), ANSWERABLE.len(), "{calls:?}");
    assert!(calls[0].to_string().contains("6.50"), "{}", calls[0]);
}

async fn real_llm_is_never_asked_out_of_scope_questions(b: Backend) {
    let Some(llama) = Llama::start().await else {
        return;
    };
    let (app, key, agent_id) = bakery(b, &llama).await;
    for (i, question) in OUT_OF_SCOPE.iter().enumerate() {
        let d = if i % 2 == 0 {
            let r = ask(&app, &key, &agent_id, None, question).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["data"].clone()
        } else {
            let (_, events) = stream_chat(
                &app,
                &key,
                json!({"agent_id": agent_id, "message": question, "stream": true}),
            )
            .await;
            let (last, tokens) = events.split_last().unwrap();
            assert_eq!(last.0, "done", "{events:?}");
            let streamed: String = tokens
                .iter()
                .map(|(_, d)| d["text"].as_str().unwrap())
                .collect();
            assert_eq!(streamed, last.1["data"]["response"].as_str().unwrap());
            last.1["data"].clone()
        };
        assert_eq!(d["answered"], false, "{question}: {d}");
        assert_eq!(d["handoff_offered"], true, "{question}: {d}");
        assert_eq!(d["sources"], json!([]), "{question}: {d}");
    }
    // Not one call: no answer, and no sentiment job either, for questions below the gate.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(llama.requests(), Vec::<Value>::new());
    // The model is there and answers a bakery question (the count above is not vacuous).
    let r = ask(&app, &key, &agent_id, None, ANSWERABLE[0].0).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(answer_calls(&llama).len(), 1, "{:?}", llama.requests());
}

async fn real_llm_streams_exactly_the_final_reply(b: Backend) {
    let Some(llama) = Llama::start().await else {
        return;
    };
    let (app, key, agent_id) = bakery(b, &llama).await;
    let mut with_fact = 0;
    for (question, fact) in ANSWERABLE {
        let (ct, events) = stream_chat(
            &app,
            &key,
            json!({"agent_id": agent_id, "message": question, "stream": true}),
        )
        .await;
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let (last, tokens) = events.split_last().unwrap();
        assert_eq!(last.0, "done", "{events:?}");
        assert!(tokens.iter().all(|(n, _)| n == "token"), "{events:?}");
        let streamed: String = tokens
            .iter()
            .map(|(_, d)| d["text"].as_str().unwrap())
            .collect();
        let done = &last.1["data"];
        let response = done["response"].as_str().unwrap();
        assert_eq!(streamed, response, "{events:?}");
        assert!(!streamed.starts_with(char::is_whitespace), "{streamed:?}");
        assert!(
            !streamed.contains('['),
            "markers never reach the visitor: {streamed:?}"
        );
        if done["answered"] == true && response.contains(fact) {
            with_fact += 1;
        }
        eprintln!("{question} -> answered={} {response:?}", done["answered"]);
    }
    assert!(
        with_fact >= 3,
        "{with_fact}/5 streamed answers held the fact"
    );
}

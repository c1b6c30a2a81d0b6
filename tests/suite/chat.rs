//! Chat: grounded answers with sources, the honest fallback without any LLM call, follow-ups,
//! streaming, the LLM prompt (personality, language, passages), citations enforced.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::llm::LlmServer;
use crate::support::{Backend, Reply, TestApp, spawn_app_with};

both_backends!(
    answers_from_knowledge_with_sources,
    unanswerable_gets_the_honest_fallback,
    follow_up_questions_use_the_conversation,
    streams_tokens_then_the_reply,
    llm_answers_are_grounded_and_cited,
    keyword_only_search_still_answers_and_refuses
);

/// The shop's knowledge: returns, shipping, store hours and two products.
pub async fn shop(app: &TestApp, key: &str, agent: Value) -> String {
    let agent_id = agent["id"].as_str().unwrap().to_string();
    let texts = [
        (
            "Returns and refunds",
            "You can return any unused item within 30 days of delivery for a full refund. \
             Refunds are paid to the original payment method within 5 business days after we \
             receive the parcel. Items marked final sale cannot be returned.",
        ),
        (
            "Shipping",
            "We ship to Portugal, Spain and France. Standard delivery takes 3 to 5 business days \
             and costs 4.90 euros; orders over 50 euros ship free.",
        ),
        (
            "Store hours",
            "Our Lisbon store is open Monday to Saturday from 10:00 to 19:00 and is closed on \
             Sundays and public holidays.",
        ),
    ];
    let mut ids = Vec::new();
    for (title, content) in texts {
        let r = app
            .post(
                &format!("/api/v1/agents/{agent_id}/sources"),
                key,
                json!({"type": "text", "title": title, "content": content}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        ids.push(r.body["data"]["id"].as_str().unwrap().to_string());
    }
    let r = app
        .post(
            &format!("/api/v1/agents/{agent_id}/sources"),
            key,
            json!({"type": "qa", "title": "Products", "pairs": [
                {"question": "Do you sell the Trailblazer backpack?",
                 "answer": "Yes. The Trailblazer backpack holds 28 litres, is waterproof and costs 89 euros."},
                {"question": "Do you sell the Summit tent?",
                 "answer": "Yes. The Summit tent sleeps two people, weighs 2.1 kg and costs 249 euros."}
            ]}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    ids.push(r.body["data"]["id"].as_str().unwrap().to_string());
    for id in &ids {
        let s = app.settled_source(key, id).await;
        assert_eq!(s["status"], "ready", "{s}");
    }
    agent_id
}

/// A pro account with the shop agent; returns (key, agent id, source id of "Returns and refunds").
async fn shop_app(app: &TestApp, agent: Value) -> (String, String) {
    let key = app.pro_key().await;
    let r = app.post("/api/v1/agents", &key, agent).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let agent_id = shop(app, &key, r.body["data"].clone()).await;
    (key, agent_id)
}

pub async fn ask(
    app: &TestApp,
    key: &str,
    agent_id: &str,
    conv: Option<&str>,
    message: &str,
) -> Reply {
    let mut body = json!({"agent_id": agent_id, "message": message});
    if let Some(c) = conv {
        body["conversation_id"] = json!(c);
    }
    app.post("/api/v1/chat", key, body).await
}

fn source_titles(r: &Reply) -> Vec<String> {
    r.body["data"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_string())
        .collect()
}

async fn answers_from_knowledge_with_sources(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
    })
    .await;
    let (key, agent_id) = shop_app(
        &app,
        json!({"name": "Shop", "welcome_message": "Hi! Ask me about orders."}),
    )
    .await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "How many days do I have to return an item?",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert!(d["response"].as_str().unwrap().contains("30 days"), "{d}");
    assert_eq!(d["answered"], true);
    assert_eq!(d["handoff_offered"], false);
    assert_eq!(d["status"], "active");
    assert_eq!(d["welcome_message"], "Hi! Ask me about orders.");
    assert_eq!(source_titles(&r)[0], "Returns and refunds", "{d}");
    let s = &d["sources"][0];
    assert!(s["snippet"].as_str().unwrap().contains("30 days"), "{s}");
    assert!(s["score"].as_f64().unwrap() > 0.0 && s["score"].as_f64().unwrap() <= 1.0);
    assert!(s["source_id"].is_string() && s["chunk_id"].is_string());
    assert!(
        r.header("server-timing")
            .unwrap()
            .contains("retrieval;dur=")
    );

    let conv = d["conversation_id"].as_str().unwrap().to_string();
    let r = ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "When is the Lisbon store open?",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["data"]["response"]
            .as_str()
            .unwrap()
            .contains("Monday to Saturday")
    );
    assert_eq!(source_titles(&r)[0], "Store hours");
    assert!(r.body["data"]["welcome_message"].is_null());

    // The conversation keeps the welcome message first, then each exchange.
    let c = app
        .get(&format!("/api/v1/conversations/{conv}"), &key)
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let msgs = c.body["data"]["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["assistant", "user", "assistant", "user", "assistant"]
    );
    assert_eq!(msgs[0]["content"], "Hi! Ask me about orders.");
    assert_eq!(msgs[1]["answered"], true);
    assert_eq!(msgs[2]["sources"][0]["title"], "Returns and refunds");
    assert!(msgs[2]["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn unanswerable_gets_the_honest_fallback(b: Backend) {
    let llm = LlmServer::start().await;
    llm.reply("Flights to Tokyo cost 700 euros [1].");
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
        e.set("OTOQ_LLM_BASE_URL", llm.url.clone());
    })
    .await;
    let (key, agent_id) = shop_app(&app, json!({"name": "Shop"})).await;
    for question in [
        "Do you sell airplane tickets to Tokyo?",
        "What is the capital of Australia?",
        "Can you recommend a good lasagna recipe?",
    ] {
        let r = ask(&app, &key, &agent_id, None, question).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let d = &r.body["data"];
        assert_eq!(d["answered"], false, "{question}: {d}");
        assert_eq!(d["handoff_offered"], true, "{question}: {d}");
        assert_eq!(d["sources"], json!([]));
        let text = d["response"].as_str().unwrap();
        assert!(text.contains("don't have"), "{text}");
        assert!(!text.contains("700"), "{text}");
    }
    // The evidence was too weak: the LLM was never asked (sentiment jobs aside).
    let answer_calls = llm
        .requests()
        .iter()
        .filter(|r| !r.to_string().contains("classify the overall sentiment"))
        .count();
    assert_eq!(answer_calls, 0, "{:?}", llm.requests());
}

async fn follow_up_questions_use_the_conversation(b: Backend) {
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
    })
    .await;
    let (key, agent_id) = shop_app(&app, json!({"name": "Shop"})).await;
    let r = ask(&app, &key, &agent_id, None, "Do you sell the Summit tent?").await;
    assert_eq!(r.body["data"]["answered"], true, "{}", r.body);
    let conv = r.body["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ask(&app, &key, &agent_id, Some(&conv), "How much does it cost?").await;
    let d = &r.body["data"];
    assert_eq!(d["answered"], true, "{d}");
    assert!(d["response"].as_str().unwrap().contains("249 euros"), "{d}");
    assert_eq!(d["conversation_id"], conv.as_str());
}

/// Reads an SSE body into (event, data) pairs.
pub fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut name = String::new();
            let mut data = String::new();
            for line in e.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (
                name,
                serde_json::from_str(&data).expect("event data is JSON"),
            )
        })
        .collect()
}

pub async fn stream_chat(app: &TestApp, key: &str, body: Value) -> (String, Vec<(String, Value)>) {
    let resp = app
        .client
        .post(format!("{}/api/v1/chat", app.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let text = resp.text().await.unwrap();
    (ct, sse_events(&text))
}

async fn streams_tokens_then_the_reply(b: Backend) {
    let llm = LlmServer::start().await;
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
    })
    .await;
    let (key, agent_id) = shop_app(&app, json!({"name": "Shop"})).await;
    let (ct, events) = stream_chat(
        &app,
        &key,
        json!({"agent_id": agent_id, "message": "How long does standard delivery take?", "stream": true}),
    )
    .await;
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let (last, tokens) = events.split_last().unwrap();
    assert_eq!(last.0, "done");
    assert!(tokens.len() >= 5, "{events:?}");
    assert!(tokens.iter().all(|(n, _)| n == "token"));
    let streamed: String = tokens
        .iter()
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    let done = &last.1["data"];
    assert_eq!(streamed, done["response"].as_str().unwrap());
    assert!(streamed.contains("3 to 5 business days"), "{streamed}");
    assert_eq!(done["sources"][0]["title"], "Shipping");
    drop(llm);

    // The fallback streams too, and is stored like any reply.
    let (_, events) = stream_chat(
        &app,
        &key,
        json!({"agent_id": agent_id, "message": "What is the weather in Oslo tomorrow?", "stream": true}),
    )
    .await;
    let done = &events.last().unwrap().1["data"];
    assert_eq!(done["handoff_offered"], true);
    let conv = done["conversation_id"].as_str().unwrap();
    let c = app
        .get(&format!("/api/v1/conversations/{conv}"), &key)
        .await;
    assert_eq!(c.body["data"]["messages"].as_array().unwrap().len(), 2);
}

async fn llm_answers_are_grounded_and_cited(b: Backend) {
    let llm = LlmServer::start().await;
    llm.respond_with(|req| {
        let system = req["messages"][0]["content"].as_str().unwrap_or_default();
        if system.contains("classify the overall sentiment") {
            return "neutral".into();
        }
        let last = req["messages"].as_array().unwrap().last().unwrap()["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if last.contains("final sale") {
            // An answer the passages do not support must never reach the visitor.
            return "Refunds are instant and we also give you a free gift.".into();
        }
        if last.contains("unused items") {
            return "NO_ANSWER".into();
        }
        // Cite the passage that mentions 30 days.
        let passages = system.split("\nPassages:\n").nth(1).unwrap_or_default();
        let n = (1..=5)
            .find(|n| {
                passages
                    .split(&format!("[{n}] "))
                    .nth(1)
                    .is_some_and(|rest| rest.split("\n\n").next().unwrap_or("").contains("30 days"))
            })
            .unwrap_or(9);
        format!("Bien sûr ! Vous avez 30 jours pour retourner un article [{n}].")
    });
    let app = spawn_app_with(b, |e| {
        e.with_embedder();
        e.set("OTOQ_LLM_BASE_URL", llm.url.clone());
        e.set("OTOQ_LLM_MODEL", "shop-model");
        e.set("OTOQ_LLM_API_KEY", "sk-test-123");
    })
    .await;
    let (key, agent_id) = shop_app(
        &app,
        json!({"name": "Shopbot", "personality": "friendly", "language": "fr",
               "system_prompt": "Always mention our loyalty card."}),
    )
    .await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "How many days do I have to return an item?",
    )
    .await;
    let d = &r.body["data"];
    assert_eq!(d["answered"], true, "{d}");
    assert_eq!(
        d["response"],
        "Bien sûr ! Vous avez 30 jours pour retourner un article."
    );
    assert_eq!(source_titles(&r), vec!["Returns and refunds"]);

    let req = llm
        .requests()
        .into_iter()
        .find(|r| {
            r["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("NO_ANSWER")
        })
        .expect("an answer request");
    assert_eq!(req["model"], "shop-model");
    assert_eq!(
        llm.last_authorization().as_deref(),
        Some("Bearer sk-test-123")
    );
    let system = req["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Shopbot"));
    assert!(
        system.contains("French"),
        "forced language reaches the prompt: {system}"
    );
    assert!(system.contains("Always mention our loyalty card."));
    assert!(
        system.contains("warm"),
        "friendly tone reaches the prompt: {system}"
    );
    assert!(
        system.contains("within 30 days of delivery"),
        "passages are in the prompt"
    );
    assert!(system.contains("[1] "));

    // Follow-up: the history travels with the question.
    let conv = d["conversation_id"].as_str().unwrap().to_string();
    let r = ask(
        &app,
        &key,
        &agent_id,
        Some(&conv),
        "And what about final sale items?",
    )
    .await;
    let d = &r.body["data"];
    assert_eq!(
        d["answered"], false,
        "an unsupported answer is replaced: {d}"
    );
    assert_eq!(d["handoff_offered"], true);
    assert!(!d["response"].as_str().unwrap().contains("free gift"));
    let last = llm
        .requests()
        .into_iter()
        .rfind(|r| {
            r["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("NO_ANSWER")
        })
        .unwrap();
    let roles: Vec<&str> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);

    // NO_ANSWER from the LLM is the honest fallback, in the agent's language.
    let r = ask(&app, &key, &agent_id, None, "Can I return unused items?").await;
    assert_eq!(r.body["data"]["handoff_offered"], true, "{}", r.body);

    // Streaming through the LLM: text appears only once cited; the final reply matches.
    let (_, events) = stream_chat(
        &app,
        &key,
        json!({"agent_id": agent_id, "message": "How many days do I have to return an item?", "stream": true}),
    )
    .await;
    let (last, tokens) = events.split_last().unwrap();
    let streamed: String = tokens
        .iter()
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, last.1["data"]["response"].as_str().unwrap());
    assert!(streamed.contains("30 jours"));

    // A visitor writing Spanish to an agent without a forced language gets Spanish templates.
    let r = app
        .patch(
            &format!("/api/v1/agents/{agent_id}"),
            &key,
            json!({"language": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "¿Cuál es el horario de la oficina de correos de Madrid?",
    )
    .await;
    let text = r.body["data"]["response"].as_str().unwrap();
    assert!(text.contains("no tengo información"), "{text}");
}

async fn keyword_only_search_still_answers_and_refuses(b: Backend) {
    // No embedder: keywords alone decide, with the same honesty.
    let app = spawn_app_with(b, |_| {}).await;
    let (key, agent_id) = shop_app(&app, json!({"name": "Shop"})).await;
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "How many days do I have to return an item?",
    )
    .await;
    assert_eq!(r.body["data"]["answered"], true, "{}", r.body);
    assert_eq!(source_titles(&r)[0], "Returns and refunds");
    let r = ask(
        &app,
        &key,
        &agent_id,
        None,
        "Do you sell airplane tickets to Tokyo?",
    )
    .await;
    assert_eq!(r.body["data"]["answered"], false, "{}", r.body);
    assert_eq!(r.body["data"]["handoff_offered"], true);
}

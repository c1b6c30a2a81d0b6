//! schema.org `FAQPage` data (`<script type="application/ld+json">`): each question the page's
//! visible text does not already hold becomes a section headed by the question.

use scraper::Html;
use serde_json::Value;

use super::{Section, normalise, selector};

/// Questions taken from one page's structured data at most.
const MAX_QUESTIONS: usize = 200;
/// A JSON-LD script larger than this is not read.
const MAX_SCRIPT_BYTES: usize = 1 << 20;

/// Appends the structured FAQ's questions missing from `sections` (matched on the heading text).
pub(super) fn add_structured_faq(dom: &Html, sections: &mut Vec<Section>) {
    let mut pairs = Vec::new();
    for script in dom.select(&selector(r#"script[type="application/ld+json"]"#)) {
        let text: String = script.text().collect();
        if text.len() > MAX_SCRIPT_BYTES {
            continue;
        }
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            collect(&value, &mut pairs, 0);
        }
    }
    let known = |q: &str| {
        let q = key(q);
        sections
            .iter()
            .any(|s| s.heading_path.iter().any(|h| key(h) == q))
    };
    let missing: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(q, _)| !known(q))
        .take(MAX_QUESTIONS)
        .collect();
    for (question, answer) in missing {
        if !sections
            .iter()
            .any(|s| s.heading_path == [question.clone()])
        {
            sections.push(Section {
                heading_path: vec![question],
                text: answer,
            });
        }
    }
}

fn key(text: &str) -> String {
    normalise(text).to_lowercase()
}

fn is_type(value: &Value, name: &str) -> bool {
    match value.get("@type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(ts)) => ts.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

/// Finds `FAQPage` objects anywhere (top level, arrays, `@graph`) and their Q&A pairs.
fn collect(value: &Value, out: &mut Vec<(String, String)>, depth: usize) {
    if depth > 8 || out.len() >= MAX_QUESTIONS {
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect(v, out, depth + 1)),
        Value::Object(map) => {
            if is_type(value, "FAQPage") {
                let entities = match map.get("mainEntity") {
                    Some(Value::Array(items)) => items.iter().collect(),
                    Some(one) => vec![one],
                    None => vec![],
                };
                for q in entities.into_iter().filter(|q| is_type(q, "Question")) {
                    if let Some(pair) = pair(q) {
                        out.push(pair);
                    }
                }
            }
            if let Some(graph) = map.get("@graph") {
                collect(graph, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn pair(q: &Value) -> Option<(String, String)> {
    let question = normalise(q.get("name")?.as_str()?);
    let answer = match q.get("acceptedAnswer")? {
        Value::Array(a) => a.first()?,
        a => a,
    };
    let answer = answer.get("text")?.as_str()?;
    // Answers may hold HTML.
    let answer = Html::parse_fragment(&super::limit::limit_nesting(answer));
    let answer = normalise(&answer.root_element().text().collect::<Vec<_>>().join(" "));
    (!question.is_empty() && !answer.is_empty()).then_some((question, answer))
}

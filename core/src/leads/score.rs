//! An explained lead score: contact completeness, buying intent, engagement and sentiment, each
//! contributing points with a reason a person can read. The reasons' points add up to the score
//! before it is clamped to 0–100.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::contact::Contact;

/// One reason contributing to a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// What contributed: "email", "phone", "name", "company", "intent:pricing", "intent:demo", "intent:purchase", "engagement" or "sentiment".
    pub signal: String,
    /// Points added (negative: taken away).
    pub points: i32,
    /// For a person, e.g. `asked about pricing: "how much is the pro plan"`.
    pub detail: String,
}

/// What the score is computed from.
pub struct Signals<'a> {
    /// The lead's contact details.
    pub contact: &'a Contact,
    /// The visitor's messages in the conversation (may be empty for form leads).
    pub visitor_messages: &'a [String],
    /// Conversation sentiment: "positive" | "neutral" | "negative" (None when unknown).
    pub sentiment: Option<&'a str>,
}

const EMAIL: i32 = 20;
const PHONE: i32 = 15;
const NAME: i32 = 10;
const COMPANY: i32 = 10;
const PRICING: i32 = 15;
const DEMO: i32 = 15;
const PURCHASE: i32 = 20;
const INTENT_CAP: i32 = 35;
/// (visitor messages at least, points), highest first.
const ENGAGEMENT: [(usize, i32); 2] = [(6, 10), (3, 5)];
const SENTIMENT: [(&str, i32); 2] = [("positive", 5), ("negative", -10)];

/// The formula of [`score`] as Markdown bullet lines (for API docs); a test checks it against the constants.
pub const FORMULA: &str = "\
- Contact details: email 20, phone 15, name 10, company 10 (at most 55).
- Buying intent in the visitor's messages (keywords in English, Spanish, French, German, \
Portuguese, Italian and Dutch), each kind counted once, at most 35 in all (counted in this \
order, the last kind getting what is left):
  - pricing, quote or cost 15
  - demo, trial, meeting or call 15
  - purchase, buy, order, subscribe or sign up 20
- Engagement: 3 or more visitor messages 5, 6 or more 10.
- Sentiment: positive +5, negative −10.
- The score is the sum, clamped to 0–100.
";

/// A kind of buying intent and the words that show it.
struct Intent {
    signal: &'static str,
    points: i32,
    what: &'static str,
    words: Regex,
    /// Phrases that contain the words without meaning them ("in order to").
    not: Option<Regex>,
}

impl Intent {
    /// An excerpt of `message` around the first word showing this intent.
    fn find(&self, message: &str) -> Option<String> {
        let blanked = match &self.not {
            // Same-length blanks keep byte offsets valid in the original message.
            Some(not) => not.replace_all(message, |c: &regex::Captures| " ".repeat(c[0].len())),
            None => message.into(),
        };
        let m = self.words.find(&blanked)?;
        Some(excerpt(message, m.start(), m.end()))
    }
}

fn regex(pattern: &str) -> Regex {
    Regex::new(&format!(r"(?i)\b(?:{pattern})\b")).expect("intent regex")
}

static INTENTS: LazyLock<[Intent; 3]> = LazyLock::new(|| {
    [
        Intent {
            signal: "intent:pricing",
            points: PRICING,
            what: "asked about pricing",
            words: regex(concat!(
                r"pric(?:e|es|ed|ing)|quotes?|quotation|costs?|fees?|how\s+much\s+(?:is|are|does|do|would|will|for)",
                r"|precios?|cotizaci[oó]n|presupuesto|cu[aá]nto\s+cuestan?|costes?|costos?|tarifas?",
                r"|prix|tarifs?|devis|co[uû]ts?|co[uû]te(?:nt)?",
                r"|preis|preise|kosten|kostet|kostenvoranschlag|angebot",
                r"|pre[cç]os?|or[cç]amento|cota[cç][aã]o|custos?|quanto\s+custa",
                r"|prezz[oi]|preventivo|costi|quanto\s+costa",
                r"|prijs|prijzen|offerte|kost",
            )),
            not: None,
        },
        Intent {
            signal: "intent:demo",
            points: DEMO,
            what: "asked for a demo, trial or call",
            words: regex(concat!(
                r"d[eé]mos?|demonstration|trials?|meetings?|call\s+me|(?:phone|video)\s+call",
                r"|(?:a|book|schedule|arrange)\s+(?:(?:quick|short|phone|video|sales|discovery|intro)\s+)*call",
                r"|demostraci[oó]n|prueba\s+(?:gratuita|gratis)|reuni[oó]n|llamada|ll[aá]mame|llamarme",
                r"|d[ée]monstration|essai\s+gratuit|rendez-vous|r[ée]union|appel|m['’]appeler",
                r"|vorf[uü]hrung|testversion|probeversion|termin|anruf|r[uü]ckruf",
                r"|demonstra[cç][aã]o|teste\s+gr[aá]tis|teste\s+gratuito|reuni[aã]o|chamada|ligar-me|me\s+ligar",
                r"|dimostrazione|prova\s+gratuita|riunione|chiamata|appuntamento",
                r"|proefperiode|proefversie|afspraak|vergadering|terugbellen|bel\s+me",
            )),
            not: None,
        },
        Intent {
            signal: "intent:purchase",
            points: PURCHASE,
            what: "wants to buy",
            words: regex(concat!(
                r"buy|buying|purchas(?:e|es|ed|ing)|order|ordering|subscribe|subscribing|sign(?:ing)?[\s-]*up|upgrade|upgrading",
                r"|comprar|compra|contratar|suscribirme|suscribirse|suscribir",
                r"|acheter|achat|commander|commande|abonner|souscrire",
                r"|kaufen|kauf|bestellen|bestellung|abonnieren|buchen",
                r"|encomendar|encomenda|assinar|subscrever|adquirir",
                r"|comprare|acquistare|acquisto|ordinare|abbonarmi|abbonarsi",
                r"|kopen|koop|bestelling|abonneren|aanschaffen|aanmelden",
            )),
            not: Some(regex(concat!(
                r"in\s+(?:the\s+|that\s+|this\s+)?(?:right\s+|same\s+|correct\s+|wrong\s+|reverse\s+|alphabetical\s+)?order",
                r"|out\s+of\s+order|the\s+order\s+of|in\s+ordine",
            ))),
        },
    ]
});

/// A short quote of `message` around `start..end`, cut at spaces, "…" where cut.
fn excerpt(message: &str, start: usize, end: usize) -> String {
    const CONTEXT: usize = 40;
    let mut from = message.floor_char_boundary(start.saturating_sub(CONTEXT));
    if from > 0 {
        from = message[from..start]
            .find(' ')
            .map_or(start, |i| from + i + 1);
    }
    let mut to = message.ceil_char_boundary(end + CONTEXT);
    if to < message.len() {
        to = message[end..to].rfind(' ').map_or(end, |i| end + i);
    }
    let words: Vec<&str> = message[from..to].split_whitespace().collect();
    let head = if from > 0 { "…" } else { "" };
    let tail = if to < message.len() { "…" } else { "" };
    format!("{head}{}{tail}", words.join(" "))
}

fn reason(signal: &str, points: i32, detail: String) -> Reason {
    let signal = signal.to_string();
    Reason {
        signal,
        points,
        detail,
    }
}

/// The score (0–100) and its reasons, by [`FORMULA`].
pub fn score(s: &Signals<'_>) -> (u8, Vec<Reason>) {
    let c = s.contact;
    let mut reasons = Vec::new();
    let fields = [
        ("email", &c.email, EMAIL),
        ("phone", &c.phone, PHONE),
        ("name", &c.name, NAME),
        ("company", &c.company, COMPANY),
    ];
    for (signal, value, points) in fields {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            reasons.push(reason(signal, points, format!("{signal}: {v}")));
        }
    }
    let mut intent_left = INTENT_CAP;
    for intent in INTENTS.iter() {
        let Some(quote) = s.visitor_messages.iter().find_map(|m| intent.find(m)) else {
            continue;
        };
        let points = intent.points.min(intent_left);
        intent_left -= points;
        let mut detail = format!("{}: \"{quote}\"", intent.what);
        if points < intent.points {
            detail += &format!(
                " (capped from {}: intent counts at most {INTENT_CAP})",
                intent.points
            );
        }
        if points > 0 {
            reasons.push(reason(intent.signal, points, detail));
        }
    }
    let said = |m: &&String| !m.trim().is_empty();
    let messages = s.visitor_messages.iter().filter(said).count();
    if let Some(&(_, points)) = ENGAGEMENT.iter().find(|(least, _)| messages >= *least) {
        reasons.push(reason(
            "engagement",
            points,
            format!("{messages} visitor messages"),
        ));
    }
    let sentiment = s.sentiment.unwrap_or_default().trim().to_ascii_lowercase();
    if let Some(&(mood, points)) = SENTIMENT.iter().find(|(mood, _)| *mood == sentiment) {
        reasons.push(reason("sentiment", points, format!("{mood} conversation")));
    }
    let total: i32 = reasons.iter().map(|r| r.points).sum();
    (total.clamp(0, 100) as u8, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(contact: &Contact, messages: &[&str], sentiment: Option<&str>) -> (u8, Vec<Reason>) {
        let visitor_messages: Vec<String> = messages.iter().map(|m| m.to_string()).collect();
        let visitor_messages = visitor_messages.as_slice();
        score(&Signals {
            contact,
            visitor_messages,
            sentiment,
        })
    }

    /// The total and the reasons as (signal, points).
    fn points(
        contact: &Contact,
        messages: &[&str],
        sentiment: Option<&str>,
    ) -> (u8, Vec<(String, i32)>) {
        let (total, reasons) = run(contact, messages, sentiment);
        (
            total,
            reasons.into_iter().map(|r| (r.signal, r.points)).collect(),
        )
    }

    fn has(signals: &[(&str, i32)]) -> Vec<(String, i32)> {
        signals.iter().map(|(s, p)| (s.to_string(), *p)).collect()
    }

    fn email_only() -> Contact {
        Contact {
            email: Some("ana@acme.com".into()),
            ..Contact::default()
        }
    }

    fn intents(message: &str) -> Vec<&'static str> {
        INTENTS
            .iter()
            .filter(|i| i.find(message).is_some())
            .map(|i| i.signal)
            .collect()
    }

    #[test]
    #[rustfmt::skip]
    fn everything_adds_up_caps_intent_and_clamps_at_100() {
        let contact = Contact {
            name: Some("Ana Silva".into()),
            email: Some("ana@acme.com".into()),
            phone: Some("+351912345678".into()),
            company: Some("Acme".into()),
        };
        let messages = ["hi", "how much is the pro plan", "could we book a demo?", "ok", "I want to order 20 seats", "thanks"];
        let want = has(&[("email", 20), ("phone", 15), ("name", 10), ("company", 10), ("intent:pricing", 15), ("intent:demo", 15), ("intent:purchase", 5), ("engagement", 10), ("sentiment", 5)]);
        assert_eq!(points(&contact, &messages, Some("Positive")), (100, want));
        let (_, reasons) = run(&contact, &messages, Some("positive"));
        assert_eq!(reasons.iter().map(|r| r.points).sum::<i32>(), 105);
        assert_eq!(reasons[0].detail, "email: ana@acme.com");
        assert_eq!(reasons[4].detail, "asked about pricing: \"how much is the pro plan\"");
        assert_eq!(reasons[5].detail, "asked for a demo, trial or call: \"could we book a demo?\"");
        assert_eq!(reasons[6].detail, "wants to buy: \"I want to order 20 seats\" (capped from 20: intent counts at most 35)");
        assert_eq!(reasons[7].detail, "6 visitor messages");
        assert_eq!(reasons[8].detail, "positive conversation");
    }

    #[test]
    fn email_only_is_20_and_negative_takes_10() {
        assert_eq!(
            points(&email_only(), &[], None),
            (20, has(&[("email", 20)]))
        );
        assert_eq!(
            points(&email_only(), &[], Some("neutral")),
            (20, has(&[("email", 20)]))
        );
        let want = has(&[("email", 20), ("sentiment", -10)]);
        assert_eq!(points(&email_only(), &[], Some("negative")), (10, want));
        let want = has(&[("sentiment", -10)]);
        assert_eq!(
            points(&Contact::default(), &["useless"], Some("negative")),
            (0, want)
        );
    }

    #[test]
    fn engagement_counts_non_blank_visitor_messages() {
        let none = Contact::default();
        assert_eq!(run(&none, &["a", "b", " "], None).0, 0);
        assert_eq!(run(&none, &["a", "b", "c"], None).0, 5);
        assert_eq!(run(&none, &["a", "b", "c", "d", "e"], None).0, 5);
        assert_eq!(run(&none, &["a"; 6], None).0, 10);
    }

    #[test]
    fn each_intent_counts_once_and_quotes_the_first_mention() {
        let messages = [
            "What does it cost?",
            "And the price for 10 seats?",
            "A free trial?",
        ];
        let want = has(&[
            ("intent:pricing", 15),
            ("intent:demo", 15),
            ("engagement", 5),
        ]);
        assert_eq!(points(&Contact::default(), &messages, None), (35, want));
        let (_, reasons) = run(&Contact::default(), &messages, None);
        assert_eq!(
            reasons[0].detail,
            "asked about pricing: \"What does it cost?\""
        );
    }

    #[test]
    #[rustfmt::skip]
    fn intent_uses_whole_words_skips_idioms_and_is_multilingual() {
        let cases: [(&str, &[&str]); 18] = [
            ("I believe in democracy", &[]),
            ("In order to log in, what do I do?", &[]),
            ("Steps are in the wrong order, and the lift is out of order", &[]),
            ("I'd like to unsubscribe", &[]),
            ("I want to order", &["intent:purchase"]),
            ("in order to save time I'd like to place an order", &["intent:purchase"]),
            ("Can we sign-up today?", &["intent:purchase"]),
            ("Can I see a DEMO", &["intent:demo"]),
            ("¿Cuánto cuesta el plan?", &["intent:pricing"]),
            ("Quel est le prix ? Je voudrais un devis", &["intent:pricing"]),
            ("Was kostet das?", &["intent:pricing"]),
            ("Quanto custa o plano?", &["intent:pricing"]),
            ("Hoeveel kost het?", &["intent:pricing"]),
            ("Können wir einen Termin vereinbaren?", &["intent:demo"]),
            ("Vorrei una dimostrazione", &["intent:demo"]),
            ("Je voudrais acheter la licence", &["intent:purchase"]),
            ("Queremos contratar o serviço", &["intent:purchase"]),
            ("Ik wil graag bestellen, wat kost het?", &["intent:pricing", "intent:purchase"]),
        ];
        for (message, want) in cases {
            assert_eq!(intents(message), want, "{message}");
        }
    }

    #[test]
    fn excerpts_long_messages_around_the_match() {
        let message = format!(
            "{} the price of the team plan {}",
            "wörd ".repeat(20),
            "more ".repeat(20)
        );
        let quote = INTENTS[0].find(&message).unwrap();
        assert!(
            quote.starts_with("…wörd") && quote.ends_with("more…"),
            "{quote}"
        );
        assert!(quote.contains(" the price of the team plan "), "{quote}");
        assert!(quote.chars().count() < 100, "{quote}");
    }

    #[test]
    fn formula_matches_the_constants() {
        let contact = EMAIL + PHONE + NAME + COMPANY;
        let [(most, more), (some, less)] = ENGAGEMENT;
        let [(good, plus), (bad, minus)] = SENTIMENT;
        let parts = [
            format!(
                "email {EMAIL}, phone {PHONE}, name {NAME}, company {COMPANY} (at most {contact})"
            ),
            format!("at most {INTENT_CAP} in all"),
            format!("- pricing, quote or cost {PRICING}\n"),
            format!("- demo, trial, meeting or call {DEMO}\n"),
            format!("- purchase, buy, order, subscribe or sign up {PURCHASE}\n"),
            format!("{some} or more visitor messages {less}, {most} or more {more}."),
            format!("{good} +{plus}, {bad} −{}.", -minus),
        ];
        for part in parts {
            assert!(FORMULA.contains(&part), "FORMULA lacks {part:?}");
        }
        assert!(FORMULA.lines().all(|l| l.trim_start().starts_with("- ")));
    }
}

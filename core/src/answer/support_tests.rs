//! Tests of support judging: replies a small local model really writes, against a bakery's
//! and a shop's passages.

use super::*;

pub(super) const BAKERY: [&str; 5] = [
    "Prices › Bread\nA loaf of our sourdough bread costs $6.50. A baguette is $3.20.",
    "Opening hours\nThe bakery is open Tuesday to Sunday from 7am to 3pm. We are closed on Mondays.",
    "Find us\nRiverside Bakery is at 14 Mill Lane, Riverton, next to the old post office.",
    "Cakes\nBirthday cakes must be ordered at least 48 hours in advance.",
    "Our flour\nAll our bread is baked with organic flour from Hartley Farm.",
];

fn bakery() -> Evidence {
    Evidence::new(&BAKERY, &["Riverside Bakery assistant"])
}

#[test]
fn keeps_facts_written_without_markers() {
    let e = bakery();
    for (reply, passage) in [
        ("A loaf of sourdough bread is $6.50.", 0),
        ("We open at 7 am.", 1),
        ("We're open from 7:00 to 15:00, Tuesday to Sunday.", 1),
        ("We are located at 14 Mill Lane in Riverton.", 2),
        (
            "Please order your birthday cake at least 48 hours ahead.",
            3,
        ),
        ("Our bread is made with organic flour from Hartley Farm.", 4),
    ] {
        assert_eq!(e.judge(reply), Verdict::Supported(vec![passage]), "{reply}");
        assert_eq!(e.judge_reply(reply), Some(vec![passage]), "{reply}");
    }
}

#[test]
fn replaces_numbers_that_differ() {
    let e = bakery();
    for reply in [
        "A loaf of sourdough bread costs $5.50.",
        "We open at 8am.",
        "Birthday cakes must be ordered 24 hours in advance.",
        "We are at 41 Mill Lane.",
        // Markers do not make a wrong number right.
        "A loaf of sourdough costs $7 [1].",
    ] {
        assert!(
            matches!(e.judge(reply), Verdict::Unsupported(_)),
            "{reply}: {:?}",
            e.judge(reply)
        );
        assert_eq!(e.judge_reply(reply), None, "{reply}");
    }
}

#[test]
fn a_range_must_be_the_passages_range() {
    // A shipping table (the quality bench's shop): SmolLM2 answered "3–4" for Switzerland,
    // whose 3 and 4 each stand somewhere in the passage.
    let e = Evidence::new(
        &[
            "Shipping\nUK: £3.95, 3–5 working days. Europe zone 1: £9.95, 5–8 working days; express \
           £19.50, 2–3 working days. Europe zone 2 (Norway, Switzerland): £14.95, 7–10 working \
           days. Orders over £4 ship free.",
        ],
        &[],
    );
    for reply in [
        "Standard delivery takes approximately 3–4 working days to Switzerland.",
        "Delivery to Switzerland takes 5 to 10 working days.",
    ] {
        assert!(
            matches!(e.judge(reply), Verdict::Unsupported(_)),
            "{reply}: {:?}",
            e.judge(reply)
        );
    }
    assert_eq!(
        e.judge("Switzerland: 7 to 10 working days."),
        Verdict::Supported(vec![0])
    );
    // The same range written another way is the same range.
    assert_eq!(
        bakery().judge("We're open from 7:00 to 15:00, Tuesday to Sunday."),
        Verdict::Supported(vec![1])
    );
}

#[test]
fn replaces_invented_names_and_policies() {
    let e = bakery();
    for reply in [
        "Our flour comes from Greenfield Mills.",
        "We also have a shop in Springfield.",
        "We deliver cakes anywhere in the city for free.",
        "Yes, we offer gluten-free bread every day.",
        "You can pay with Bitcoin.",
        "We are open on Mondays.",
        "The bakery is not open on Sundays.",
    ] {
        assert!(
            matches!(e.judge(reply), Verdict::Unsupported(_)),
            "{reply}: {:?}",
            e.judge(reply)
        );
    }
}

#[test]
fn courtesy_is_neutral_and_a_reply_of_courtesy_only_is_no_answer() {
    let e = bakery();
    assert_eq!(e.judge("Sure!"), Verdict::Neutral);
    assert_eq!(
        e.judge("Let me know if you have any other questions."),
        Verdict::Neutral
    );
    assert_eq!(e.judge("I hope this helps!"), Verdict::Neutral);
    assert_eq!(e.judge_reply("Sure! I hope this helps."), None);
    assert_eq!(
        e.judge_reply(
            "Great question! A baguette is $3.20. Let me know if you need anything else."
        ),
        Some(vec![0])
    );
    // One invented claim sinks the reply.
    assert_eq!(
        e.judge_reply("A baguette is $3.20. We also sell croissants for $2."),
        None
    );
}

#[test]
fn markers_stand_for_the_words_of_a_reply_in_another_language() {
    let e = bakery();
    assert_eq!(
        e.judge("Les gâteaux d'anniversaire doivent être commandés 48 heures à l'avance [4]."),
        Verdict::Supported(vec![3])
    );
    // ...but never for its numbers.
    assert!(matches!(
        e.judge("Les gâteaux d'anniversaire doivent être commandés 24 heures à l'avance [4]."),
        Verdict::Unsupported(_)
    ));
    // In the passages' own language a marker is not enough.
    assert!(matches!(
        e.judge("We deliver cakes to your home for free [4]."),
        Verdict::Unsupported(_)
    ));
}

#[test]
fn the_refusal_word_is_never_an_answer() {
    let e = bakery();
    assert_eq!(e.judge_reply("NO_ANSWER"), None);
    assert_eq!(e.judge_reply("NO_ANSWER [1]"), None);
}

#[test]
fn numbers_are_read_as_people_write_them() {
    for (raw, want) in [
        ("$6.50", vec!["6.5"]),
        ("1,200 items", vec!["1200"]),
        ("open 9:00-17:30", vec!["9", "17:30"]),
        ("until 5 pm.", vec!["17"]),
        ("until 5pm", vec!["17"]),
        ("at 7am", vec!["7"]),
        ("12.00", vec!["12"]),
    ] {
        assert_eq!(numbers(raw), want, "{raw}");
    }
    let e = Evidence::new(
        &["Returns are free within thirty days. Delivery takes three days."],
        &[],
    );
    assert!(matches!(
        e.judge("Delivery takes 3 days."),
        Verdict::Supported(_)
    ));
}

#[test]
fn splits_complete_sentences_and_keeps_markers_with_them() {
    let (s, rest) = split_sentences("It costs $6.50 [1]. Order 48 hours ahead.\n- Open at 7am");
    assert_eq!(s, vec!["It costs $6.50 [1].", "Order 48 hours ahead."]);
    assert_eq!(rest, "- Open at 7am");
    let (s, rest) = split_sentences("It costs $6.50. [1] Order");
    assert_eq!(s, vec!["It costs $6.50. [1]"]);
    assert_eq!(rest, "Order");
    // A terminator without white space after it may still be a decimal point.
    let (s, rest) = split_sentences("It costs $6.");
    assert!(s.is_empty());
    assert_eq!(rest, "It costs $6.");
}

/// Shop passages (tables flattened with their headers, an FAQ answer with its question).
const SHOP: [&str; 4] = [
    "Shipping › Zones and prices\nZone: Portugal — price: €4.90 — delivery: 1-2 business days. \
     Zone: Spain — price: €7.50 — delivery: 2-4 business days. Orders over €60 ship free to Portugal.",
    "Returns\nYou can return unworn items within 30 days of delivery for a full refund. \
     Sale items cannot be returned.",
    "FAQ › Do you offer student discounts?\nYes. Students get 10% off with a valid student card in our Lisbon store.",
    "Stores › Porto\nOur Porto store on Rua das Flores 22 is open Monday to Saturday, 10:00–19:00.",
];

#[test]
fn shop_paraphrases_are_kept_and_inventions_replaced() {
    let e = Evidence::new(&SHOP, &[]);
    for (reply, passage) in [
        (
            "Shipping to Spain costs €7.50 and takes 2-4 business days.",
            0,
        ),
        ("You have 30 days from delivery to return unworn items.", 1),
        (
            "Students get a 10% discount in the Lisbon store with a valid student card.",
            2,
        ),
        (
            "The Porto store opens at 10:00 and closes at 19:00, Monday to Saturday.",
            3,
        ),
        ("No, sale items cannot be returned.", 1),
    ] {
        assert_eq!(e.judge_reply(reply), Some(vec![passage]), "{reply}");
    }
    for reply in [
        "Shipping to France costs €9.90.",
        "Students get 15% off.",
        "Our Porto store is open on Sundays.",
    ] {
        assert_eq!(e.judge_reply(reply), None, "{reply}");
    }
}

#[path = "support_eval.rs"]
mod eval;

//! What a question asks for (a duration, an amount, a time, a place, a yes/no statement) and
//! whether a sentence carries that kind of answer, in the seven languages the agent speaks.

use std::sync::LazyLock;

use regex::Regex;

/// The kind of answer a question expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerType {
    /// "how long", "how many days": a number with a unit of time.
    Duration,
    /// "how much", "what does it cost", "how many": a price, a count, a percentage.
    Amount,
    /// "what time", "when", "open": a clock time, a weekday, a date.
    Time,
    /// "where", "address": a place.
    Place,
    /// "can I", "do you": a statement that says yes or no (and its qualifier).
    YesNo,
    /// Anything else ("what is", "how do I").
    Other,
}

fn re(p: &str) -> Regex {
    Regex::new(p).expect("intent pattern")
}

static DURATION_Q: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:how long|how many (?:days|weeks|months|years|hours|minutes|business days|working days)|how soon|how quickly|within how|wie lange?|wie viele (?:tage|wochen|monate|stunden)|cu[aá]nto tiempo|cu[aá]ntos (?:d[ií]as|meses|semanas|horas)|combien de (?:temps|jours|semaines|mois|heures)|en combien de|quanto tempo|quantos (?:dias|meses|semanas|horas)|quanti (?:giorni|mesi|settimane)|hoe lang|hoeveel (?:dagen|weken|maanden|uur))\b",
    )
});
static AMOUNT_Q: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:how much|how many|what(?:'s| is| does)? (?:the )?(?:price|cost|fee|charge)|price|prices|pricing|cost|costs|fee|fees|charge|discount|percent|wie ?viel|was kostet|kosten|preis|geb[uü]hr|rabatt|cu[aá]nto|cu[aá]ntos|cu[aá]ntas|precio|cuesta|cuestan|descuento|combien|prix|co[uû]te|tarif|remise|quanto|quantos|quantas|pre[cç]o|custa|desconto|costa|prezzo|sconto|hoeveel|prijs|kost|korting)\b",
    )
});
static TIME_Q: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:what time|when|opening|open|opens|close|closes|closing|hours|cut-?off|deadline|wann|um wie viel uhr|ge[oö]ffnet|[oö]ffnungszeiten|schlie[sß]t|cu[aá]ndo|a qu[eé] hora|horario|abre|abren|cierra|quand|[aà] quelle heure|horaires?|ouvert|ferme|quando|que horas|hor[aá]rio|abre|fecha|a che ora|orari|aperto|chiude|wanneer|hoe laat|openingstijden|open|sluit)\b",
    )
});
static PLACE_Q: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:where|address|located|location|find you|wo|wohin|adresse|d[oó]nde|direcci[oó]n|ubicad[oa]|où|situ[eé]|onde|endere[cç]o|localizad[oa]|dove|indirizzo|waar|adres)\b",
    )
});
static YESNO_Q: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:(?:hi|hello|hey|so|and|also|ok|okay)[,!]?\s+)?(?:can|could|do|does|did|is|are|will|would|may|should|have|has|am|kann|k[oö]nnen|gibt es|ist|sind|habt|haben|bietet|bieten|muss|darf|puedo|puede|pueden|hay|es|est[aá]n?|tienen|ofrecen|aceptan|puis-je|peut-on|peux|pouvez|est-ce|y a-t-il|acceptez|avez|posso|pode|podem|tem|t[eê]m|aceitam|[eé] poss[ií]vel|si pu[oò]|avete|accettate|kan|kun|kunnen|is het|zijn|hebben|accepteren|bieden)\b",
    )
});

/// What `question` asks for. A duration beats an amount ("how many days"), an amount and a time
/// beat a place, and any of them beats a bare yes/no ("can I return it within how long").
pub fn answer_type(question: &str) -> AnswerType {
    let q = question.trim();
    if DURATION_Q.is_match(q) {
        AnswerType::Duration
    } else if AMOUNT_Q.is_match(q) && !YESNO_Q.is_match(q) || q.to_lowercase().contains("how much")
    {
        AnswerType::Amount
    } else if TIME_Q.is_match(q) && !YESNO_Q.is_match(q)
        || q.to_lowercase().starts_with("what time")
    {
        AnswerType::Time
    } else if PLACE_Q.is_match(q) && !YESNO_Q.is_match(q) {
        AnswerType::Place
    } else if YESNO_Q.is_match(q) {
        AnswerType::YesNo
    } else {
        AnswerType::Other
    }
}

const NUMBER: &str = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|fifteen|twenty|thirty|sixty|ninety|a few|several|un[oa]?|dos|tres|cinco|diez|quince|treinta|ein(?:e|en)?|zwei|drei|f[uü]nf|zehn|vierzehn|drei[sß]ig|deux|trois|cinq|dix|quinze|trente|dois|duas|tr[eê]s|cinco|dez|trinta|due|tre|dieci|trenta|een|twee|drie|vijf|tien|dertig)";

static DURATION_S: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b{NUMBER}(?:\s*(?:-|–|to|or|bis|a|à|e|tot)\s*{NUMBER})?[\s-]*(?:business |working |calendar )?(?:minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|years?|werktage?n?|arbeitstage?n?|tage?n?|wochen?|monate?n?|stunden?|jahre?n?|d[ií]as?|h[aá]biles|semanas?|meses|mes|horas?|a[nñ]os?|jours?|ouvr[eé]s|semaines?|mois|heures?|ans?|dias?|[uú]teis|anos?|giorni|giorno|lavorativi|settimane?|mesi|ore|anni|dagen|dag|werkdagen|weken|week|maanden|uur|jaar)\b|\b(?:same|next)[ -]day\b|\bovernight\b|\bimmediately\b|\binstantly\b|\bwithin an? (?:hour|day|week)\b"
    ))
});
static AMOUNT_S: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)[$€£¥]\s?\d|\d\s?(?:[$€£¥]|%|percent|pct)|\b\d+(?:[.,]\d+)?\s*(?:euros?|eur|dollars?|usd|cad|aud|gbp|pounds?|chf|francs?|kr|sek|nok|dkk|reais|r\$|cents?|pesos?)\b|\b(?:free|gratis|kostenlos|gratuit[oe]?s?|gratuita|no charge|at no cost|sin coste|sin costo|grátis)\b|\b\d+\s*(?:items?|pieces?|units?|points?|people|persons?|pairs?|st[uü]ck|punkte|puntos|points|pontos|punti|punten)\b",
    )
});
static TIME_S: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\d{1,2}(?:[:.h]\d{2})\s*(?:am|pm|a\.m\.|p\.m\.|uhr|h)?|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.|uhr|o'clock)\b|\b(?:noon|midnight|mittag|mitternacht|mediod[ií]a|midi|minuit|meio-dia|mezzogiorno|middag)\b|\b(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun|weekday|weekend|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|segunda|ter[cç]a|quarta|quinta|sexta|luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)s?)\b|\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d",
    )
});
static PLACE_S: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:street|st\.|avenue|ave\.?|road|rd\.|boulevard|blvd|lane|square|plaza|floor|suite|building|mall|centre|center|located|stra[sß]e|str\.|platz|weg|gasse|calle|avenida|plaza|rue|boulevard|place|rua|pra[cç]a|largo|via|viale|piazza|straat|plein|laan|gracht)\b|\b\d{4,5}(?:-\d{3,4})?\s+[A-ZÀ-Ý][a-zà-ÿ]+|\b(?:next to|opposite|across from)\s+[A-Z]",
    )
});
static NEGATION_OR_QUALIFIER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:yes|no|not|never|cannot|can't|don't|doesn't|only|except|unless|but|however|excluding|excluded|as long as|provided|ja|nein|nicht|kein|keine|nur|au[sß]er|aber|jedoch|s[ií]|no|nunca|solo|sólo|excepto|salvo|pero|sin embargo|oui|non|pas|jamais|seulement|sauf|mais|cependant|sim|não|nunca|apenas|só|exceto|mas|porém|solo|tranne|eccetto|però|tuttavia|niet|geen|alleen|behalve|maar|echter)\b",
    )
});

/// Whether `sentence` carries an answer of kind `t` (always true for [`AnswerType::Other`]
/// and for yes/no, whose answer is any statement; see [`qualifies`]).
pub fn carries(t: AnswerType, sentence: &str) -> bool {
    match t {
        AnswerType::Duration => DURATION_S.is_match(sentence),
        AnswerType::Amount => AMOUNT_S.is_match(sentence),
        AnswerType::Time => TIME_S.is_match(sentence),
        AnswerType::Place => PLACE_S.is_match(sentence),
        AnswerType::YesNo | AnswerType::Other => !sentence.trim_end().ends_with('?'),
    }
}

/// Whether `sentence` qualifies or negates a statement ("except", "only", "not", "but"): the
/// sentence after a yes/no answer that should come with it.
pub fn qualifies(sentence: &str) -> bool {
    NEGATION_OR_QUALIFIER.is_match(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AnswerType::*;

    #[test]
    fn tells_what_a_question_asks_for() {
        let cases = [
            ("How long is the return window?", Duration),
            ("How many days do I have to return something?", Duration),
            ("how long does shipping to canada take", Duration),
            ("Wie lange dauert der Versand?", Duration),
            ("¿Cuánto tiempo tengo para devolverlo?", Duration),
            ("How much is shipping to Canada?", Amount),
            ("what does the gift wrap cost", Amount),
            ("Was kostet der Versand?", Amount),
            ("Combien coûte la livraison ?", Amount),
            ("What time does the Porto store close on Saturday?", Time),
            ("When are you open?", Time),
            ("¿A qué hora abre la tienda?", Time),
            ("Where is your shop?", Place),
            ("what's the address of the outlet", Place),
            ("Wo ist euer Laden?", Place),
            ("Can I return sale items?", YesNo),
            ("Do you ship to Mexico?", YesNo),
            ("Kann ich mit PayPal bezahlen?", YesNo),
            ("Puis-je payer en plusieurs fois ?", YesNo),
            ("What is the loyalty programme?", Other),
            ("how do i reset my password", Other),
        ];
        for (q, t) in cases {
            assert_eq!(answer_type(q), t, "{q}");
        }
    }

    #[test]
    fn recognises_sentences_that_carry_the_answer() {
        assert!(carries(
            Duration,
            "Our return window is 45 days from delivery."
        ));
        assert!(carries(Duration, "Delivery takes 3 to 5 business days."));
        assert!(carries(Duration, "Der Versand dauert 2-3 Werktage."));
        assert!(!carries(Duration, "Returns are free for members."));
        assert!(carries(Amount, "Shipping to Canada costs 12 dollars."));
        assert!(carries(Amount, "Standard delivery is €4.90."));
        assert!(carries(Amount, "Members get 10% off."));
        assert!(carries(Amount, "Orders over 50 euros ship free."));
        assert!(!carries(Amount, "We ship to Canada."));
        assert!(carries(Time, "The Porto store is open 10:00 to 19:00."));
        assert!(carries(Time, "We open at 9am on weekdays."));
        assert!(carries(Time, "Closed on Sundays."));
        assert!(!carries(Time, "Orders ship from our warehouse."));
        assert!(carries(Place, "Our shop is at 12 Rua das Flores, Porto."));
        assert!(carries(Place, "Visit us at Hauptstraße 5, 10115 Berlin."));
        assert!(!carries(YesNo, "Can I return it?"));
        assert!(qualifies("Sale items cannot be returned unless faulty."));
        assert!(qualifies("Except gift cards."));
        assert!(!qualifies("We ship to Portugal and Spain."));
    }
}

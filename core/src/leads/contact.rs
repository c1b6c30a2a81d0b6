//! Contact details: validating and normalising emails and phone numbers, and picking out the
//! details a visitor gives in a chat message. Extraction is deliberately conservative: a missed
//! detail can be asked for again, a wrong one ends up in a sales team's CRM.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Contact details found in or given for a lead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The person's name, e.g. "Ana Silva".
    pub name: Option<String>,
    /// A normalised email address.
    pub email: Option<String>,
    /// E.164 ("+351912345678"), or national digits ("912345678") when no country code was given.
    pub phone: Option<String>,
    /// The company or organisation.
    pub company: Option<String>,
}

impl Contact {
    /// Takes every non-empty field of `other` (a later message) over `self`'s: visitors correct themselves.
    pub fn merge(&mut self, other: Contact) {
        let pairs = [
            (&mut self.name, other.name),
            (&mut self.email, other.email),
            (&mut self.phone, other.phone),
            (&mut self.company, other.company),
        ];
        for (mine, theirs) in pairs.into_iter().filter(|(_, theirs)| filled(theirs)) {
            *mine = theirs;
        }
    }

    /// True when there is an email or a phone (what makes a lead).
    pub fn is_reachable(&self) -> bool {
        filled(&self.email) || filled(&self.phone)
    }
}

fn filled(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// Validates and normalises an email address (trim, lower-case the domain; local@domain with a dotted domain, no spaces, ≤ 254 chars).
pub fn normalize_email(s: &str) -> Result<String, String> {
    let s = s.trim();
    let (local, domain) = s.split_once('@').unwrap_or((s, ""));
    let domain = domain.to_lowercase();
    let tld = domain.rsplit('.').next().unwrap_or_default();
    let label_char = |c: char| c.is_alphanumeric() || c == '-';
    let label = |l: &str| !l.is_empty() && l.trim_matches('-') == l && l.chars().all(label_char);
    let odd = |c: char| c.is_control() || "()<>[]\\,;:\"".contains(c);
    let bad_local = local.starts_with('.') || local.ends_with('.') || local.contains(odd);
    let bad_tld = tld.chars().count() < 2 || tld.chars().all(|c| c.is_ascii_digit());
    #[rustfmt::skip]
    let problems = [
        (s.is_empty(), "is empty"),
        (s.len() > 254, "is longer than 254 characters"),
        (s.contains(char::is_whitespace), "contains spaces"),
        (!s.contains('@'), "has no @"),
        (domain.contains('@'), "has more than one @"),
        (!(1..=64).contains(&local.len()), "needs 1 to 64 characters before the @"),
        (bad_local || local.contains(".."), "has invalid characters before the @"),
        (!domain.contains('.'), "has no dot in its domain (e.g. example.com)"),
        (!domain.split('.').all(label), "has an invalid domain"),
        (bad_tld, "has no valid top-level domain"),
    ];
    match problems.into_iter().find(|(bad, _)| *bad) {
        Some((_, problem)) => Err(format!("email address {problem}")),
        None => Ok(format!("{local}@{domain}")),
    }
}

/// Country codes whose national numbers keep their leading 0 after the code (Italy, San Marino, Vatican).
const KEEPS_ZERO: [&str; 3] = ["39", "378", "379"];

/// Normalises a phone number to E.164 ("+" then 8–15 digits), using `default_country_code` (e.g. "351") for national numbers.
pub fn normalize_phone(s: &str, default_country_code: Option<&str>) -> Result<String, String> {
    let s = s.trim();
    let (plus, body) = s.strip_prefix('+').map_or((false, s), |b| (true, b));
    let allowed = |c: char| c.is_ascii_digit() || " .-()/".contains(c);
    let odd = body.chars().find(|c| !allowed(*c));
    if s.is_empty() {
        return Err("phone number is empty".into());
    } else if s.contains(char::is_alphabetic) {
        return Err(format!("phone number \"{s}\" contains letters"));
    } else if let Some(c) = odd {
        return Err(format!("unexpected character '{c}' in phone number"));
    }
    let digits_of = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
    let all = digits_of(body);
    let digits = if plus || all.starts_with("00") {
        // "(0)" marks the national trunk prefix inside international notation: "+44 (0)20 …".
        let d = digits_of(&body.replacen("(0)", "", 1));
        let d = if plus { d } else { d[2..].to_string() };
        if d.starts_with('0') {
            return Err("country code cannot start with 0".into());
        }
        d
    } else {
        let cc = default_country_code.ok_or("phone number has no country code (+ or 00)")?;
        let cc = cc.trim().trim_start_matches('+');
        if cc.starts_with('0') || !cc.parse::<u16>().is_ok_and(|n| n < 1000) {
            return Err(format!("invalid default country code \"{cc}\""));
        }
        let national = match all.strip_prefix('0') {
            Some(rest) if !KEEPS_ZERO.contains(&cc) => rest,
            // North American numbers are often written with their trunk prefix: "1 415 555 0132".
            _ if cc == "1" && all.len() == 11 && all.starts_with('1') => &all[1..],
            _ => &all,
        };
        format!("{cc}{national}")
    };
    let n = digits.len();
    let too = if n < 8 { "few" } else { "many" };
    match n {
        8..=15 => Ok(format!("+{digits}")),
        _ => Err(format!(
            "phone number has too {too} digits ({n}; E.164 allows 8 to 15)"
        )),
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("contact regex")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| re(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\+ ?)?\(?[0-9](?:(?:\)[ .\-]?|[ .\-/]\(?|\()?[0-9])*"));
#[rustfmt::skip]
static DATE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:[0-9]{1,2}[./-][0-9]{1,2}[./-](?:19|20)[0-9]{2}|(?:19|20)[0-9]{2}[./-][0-9]{1,2}[./-][0-9]{1,2})\b"));
/// "My name is", "je m'appelle", … anywhere, or a "Name:" form line.
#[rustfmt::skip]
static NAME_SAID: LazyLock<Regex> = LazyLock::new(|| re(r"(?im)\b(?:my\s+name\s+is|my\s+name['’]s|mi\s+nombre\s+es|me\s+llamo|je\s+m['’]appelle|mon\s+nom\s+est|ich\s+hei(?:ß|ss)e|mein\s+name\s+ist|meu\s+nome\s+[ée]|me\s+chamo|chamo-me|mi\s+chiamo|il\s+mio\s+nome\s+[èe]|mijn\s+naam\s+is|ik\s+heet)(?:\s*:\s*|\s+)|(?:^[ \t]*|[,;|(][ \t]*)(?:full\s+|first\s+|your\s+|contact\s+)?(?:name|nome|nombre|nom|naam)[ \t]*:[ \t]*"));
static SELF_INTRO: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:i['’]m|i\s+am)\s+"));
static THIS_IS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bthis\s+is\s+"));
#[rustfmt::skip]
static COMPANY_FIELD: LazyLock<Regex> = LazyLock::new(|| re(r"(?im)(?:^[ \t]*|[,;|(][ \t]*)(?:company(?:\s+name)?|organi[sz]ation|business|employer|empresa|entreprise|soci[ée]t[ée]|firma|unternehmen|bedrijf|azienda)[ \t]*:[ \t]*"));
/// "I work at", "ich arbeite bei", …, or "our company is (called)".
#[rustfmt::skip]
static COMPANY_SAID: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:(?:i\s+work|i['’]m\s+working|i\s+am\s+working|we\s+work|je\s+travaille|trabajo|ich\s+arbeite|trabalho|lavoro|ik\s+werk)\s+(?:at|for|chez|para|bei|f[üu]r|per|presso|bij|voor)\s+(?:(?:a|o|la|el)\s+)?|(?:our|my)\s+(?:company|business|organi[sz]ation|firm|startup|agency|employer)(?:['’]s\s+name|\s+name)?(?:\s+is(?:\s+called)?|\s+called)\s+)"));
static COMPANY_AT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:at|from|with|for)\s+"));

/// Words right before a number that make it something other than a phone number.
const NOT_PHONE: &str = "order invoice ticket ref reference tracking account acct id case booking \
    receipt serial sku po vat nif iban pedido encomenda fatura factura commande facture bestellung rechnung \
    ordine fattura bestelling factuur";
/// Words announcing a phone number.
const PHONE_CUE: &str = "phone telephone tel mobile cell cellphone whatsapp call text sms telefone telemóvel \
    telemovel telefono teléfono móvil movil celular téléphone portable handy telefon mobiel bellen";
/// "Number" words announce a phone number but also an order number, so they only help unbroken runs.
const NUMBER_WORDS: &str = "number número numero numéro nummer";
const CURRENCY: &str = "$€£¥₹";
const CURRENCY_WORDS: &str = "eur euro euros usd dollar dollars gbp pounds chf brl reais";
/// Capitalised words that follow "I'm" or "this is" without being names; never the first word of a name or company.
const STOP: &str = "a an the and or but so not no yes just also very really too still already here there \
    now then this that it i you we they he she my your our me us is am are was be to of in on at for from \
    with by about as please thanks thank sorry glad happy good great fine ok okay sure well new interested \
    looking trying writing calling contacting reaching wondering asking hoping waiting checking thinking \
    considering planning going getting having using working based located ready able unable afraid concerned \
    confused curious excited available free busy tired frustrated disappointed satisfied unhappy pleased back \
    done currently actually customer client user member admin owner manager director founder ceo cto developer \
    engineer student consultant freelancer partner myself home english british american canadian french german \
    spanish portuguese brazilian italian dutch irish australian mexican indian chinese japanese monday tuesday \
    wednesday thursday friday saturday sunday january february march april may june july august september \
    october november december mr mrs ms dr sir madam hi hello hey";
/// Lower-case particles inside names: "Ana da Silva", "Jan van der Berg".
const PARTICLES: &str = "da de do dos das del della di du van von der den le la ten ter y e bin al";
const GREETINGS: &str = "hi hello hey hiya there team everyone morning afternoon evening hola olá ola \
    bonjour salut hallo ciao hoi";
const LEGAL: &str = "inc ltd llc llp plc corp corporation co gmbh ag sa sl sas sarl srl spa bv nv lda oy ab limited";
const NO_VALUE: &str = "n/a na none no nil null - -- ? tbd";

/// Contact details a visitor gives in one chat message; what is not stated outright stays None.
pub fn extract(message: &str) -> Contact {
    let email = after(&EMAIL, message, |m| normalize_email(m.as_str()).ok());
    let phone = after(&PHONE, message, |m| phone_at(message, m.start(), m.end()));
    let (name, name_end) = find_name(message).unzip();
    let company = find_company(message, name_end);
    Contact {
        name,
        email,
        phone,
        company,
    }
}

/// The first value `take` makes of a match of `re` in `text`.
fn after<T>(re: &Regex, text: &str, take: impl FnMut(regex::Match) -> Option<T>) -> Option<T> {
    re.find_iter(text).find_map(take)
}

fn listed(list: &str, word: &str) -> bool {
    let word = word.to_lowercase();
    list.split_whitespace().any(|w| w == word)
}

/// A word lower-cased and stripped of surrounding punctuation.
fn bare(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// The phone number matched at `start..end`, if it reads as one in its context.
fn phone_at(text: &str, start: usize, end: usize) -> Option<String> {
    let (before, cand, after) = (&text[..start], &text[start..end], &text[end..]);
    let (mut back, mut ahead) = (before.chars().rev(), after.chars());
    let (prev, prev2, next, next2) = (back.next(), back.next(), ahead.next(), ahead.next());
    let glued =
        |c: Option<char>, set: &str| c.is_some_and(|c| c.is_alphanumeric() || set.contains(c));
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let next_word = bare(after.split_whitespace().next().unwrap_or_default());
    // Part of a word, an id, a price or a longer number: "#12345", "€1,299.00", "v2.10.123456789".
    if glued(prev, "#@_/=&$€£¥₹")
        || glued(next, "%$€£¥₹")
        || glued(prev, ".,:-") && digit(prev2)
        || glued(next, ".,:") && digit(next2)
        || before.trim_end().ends_with(|c| CURRENCY.contains(c))
        || listed(CURRENCY_WORDS, &next_word)
    {
        return None;
    }
    let words: Vec<String> = before.split_whitespace().rev().take(6).map(bare).collect();
    // The nearest word decides: "order number 123 456 789", but "my order; phone 912 345 678".
    let not_phone = |w: &String| listed(NOT_PHONE, w.strip_suffix('s').unwrap_or(w));
    let nearest = words
        .iter()
        .take(3)
        .find(|w| not_phone(w) || listed(PHONE_CUE, w));
    if nearest.is_some_and(not_phone) {
        return None;
    }
    let digits: String = cand.chars().filter(char::is_ascii_digit).collect();
    if cand.starts_with('+') || digits.starts_with("00") {
        return normalize_phone(cand, None).ok();
    }
    let groups: Vec<&str> = cand.split(|c: char| !c.is_ascii_digit()).collect();
    let groups: Vec<&str> = groups.into_iter().filter(|g| !g.is_empty()).collect();
    let year = |g: &&&str| g.len() == 4 && (g.starts_with("19") || g.starts_with("20"));
    let grouped = if groups.len() == 1 {
        // An unbroken run is only a phone number in trunk form ("0912345678") or when announced.
        let cue = |w: &String| listed(PHONE_CUE, w) || listed(NUMBER_WORDS, w);
        digits.starts_with('0') || words.iter().any(cue)
    } else {
        // Round trailing groups are amounts written with space separators: "100 000 000".
        let round = groups[1..].iter().all(|g| g.bytes().all(|b| b == b'0'));
        groups.len() <= 6 && groups.iter().all(|g| g.len() <= 6) && !round
    };
    let ip =
        groups.len() == 4 && cand.split('.').count() == 4 && groups.iter().all(|g| g.len() < 4);
    let other = ip || groups.iter().filter(year).count() > 1 || DATE.is_match(cand);
    ((9..=13).contains(&digits.len()) && grouped && !other).then_some(digits)
}

/// The word at `pos` (after spaces or tabs) as a byte range; None at punctuation, a line break or the end.
fn word_at(text: &str, pos: usize) -> Option<(usize, usize)> {
    let start = pos + text[pos..].len() - text[pos..].trim_start_matches([' ', '\t']).len();
    let rest = &text[start..];
    let word_char = |c: char| c.is_alphanumeric() || "'’-.&".contains(c);
    let len = rest.find(|c: char| !word_char(c)).unwrap_or(rest.len());
    (len > 0).then_some((start, start + len))
}

fn is_capitalised(w: &str) -> bool {
    w.starts_with(char::is_uppercase)
        && w.contains(char::is_lowercase)
        && !w.contains(|c: char| !c.is_alphabetic() && !"-'’".contains(c))
        && w.ends_with(char::is_alphabetic)
}

/// The name and the byte offset right after it.
fn find_name(text: &str) -> Option<(String, usize)> {
    after(&NAME_SAID, text, |m| take_name(text, m.end(), true))
        .or_else(|| after(&SELF_INTRO, text, |m| take_name(text, m.end(), false)))
        .or_else(|| after(&THIS_IS, text, |m| this_is(text, m)))
}

/// "This is" introduces someone only at the start of a sentence or after a greeting, and before
/// "from …" or the end of the clause: "Hi, this is Ana from Acme", not "this is Windows 10".
fn this_is(text: &str, m: regex::Match) -> Option<(String, usize)> {
    let before = text[..m.start()].trim_end_matches([' ', '\t', ',']);
    let greeted = listed(GREETINGS, before.rsplit(' ').next().unwrap_or_default());
    if !(before.is_empty() || before.ends_with(['.', '!', '?', '\n', ':']) || greeted) {
        return None;
    }
    let (name, end) = take_name(text, m.end(), false)?;
    let rest = text[end..].trim_start_matches([' ', '\t']);
    let next = rest.split_whitespace().next().unwrap_or_default();
    let clause_ends = rest.is_empty() || rest.starts_with([',', '.', '!', ';', '\n', '\r', '—']);
    (clause_ends || listed("from at with of here", next)).then_some((name, end))
}

/// Capitalised name words at `pos`; when the visitor states their name outright (`said`), one lower- or upper-case word too.
fn take_name(text: &str, pos: usize, said: bool) -> Option<(String, usize)> {
    let (mut words, mut at, mut end) = (Vec::new(), pos, pos);
    while let Some((s, e)) = word_at(text, at).filter(|_| words.len() < 6) {
        let raw = &text[s..e];
        let word = raw.trim_end_matches('.');
        if !words.is_empty() && listed(PARTICLES, word) && word.len() == raw.len() {
            words.push(word);
        } else if is_capitalised(word) && !listed(STOP, word) {
            words.push(word);
            end = s + word.len();
        } else {
            break;
        }
        at = e;
        if word.len() < raw.len() {
            break;
        }
    }
    while words.last().is_some_and(|w| listed(PARTICLES, w)) {
        words.pop();
    }
    if !words.is_empty() {
        return Some((words.join(" "), end));
    }
    let (s, e) = word_at(text, pos).filter(|_| said)?;
    let word = text[s..e].trim_end_matches('.');
    let one_case = word == word.to_lowercase() || word == word.to_uppercase();
    let plain = word.chars().count() >= 2 && word.chars().all(char::is_alphabetic) && one_case;
    let (first, rest) = word.split_at(word.chars().next()?.len_utf8());
    let title = format!("{}{}", first.to_uppercase(), rest.to_lowercase());
    (plain && !listed(STOP, word)).then_some((title, s + word.len()))
}

fn is_legal(w: &str) -> bool {
    listed(LEGAL, &w.replace('.', ""))
}

fn find_company(text: &str, name_end: Option<usize>) -> Option<String> {
    // After a name: "Ana from Acme".
    let after_name = |end| {
        let (s, e) = word_at(text, end)?;
        listed("from at with of", &text[s..e]).then_some(())?;
        take_company(text, e)
    };
    // Elsewhere only a name with a legal form is clearly a company: "at Acme Inc.".
    let legal = |c: &String| c.contains(' ') && c.rsplit(' ').next().is_some_and(is_legal);
    let legal_at = |m: regex::Match| take_company(text, m.end()).filter(legal);
    after(&COMPANY_FIELD, text, |m| field_value(&text[m.end()..]))
        .or_else(|| after(&COMPANY_SAID, text, |m| take_company(text, m.end())))
        .or_else(|| name_end.and_then(after_name))
        .or_else(|| after(&COMPANY_AT, text, legal_at))
}

/// Capitalised company words at `pos`, with "&" and legal forms: "Procter & Gamble", "Acme Corp.".
fn take_company(text: &str, pos: usize) -> Option<String> {
    let (mut words, mut at) = (Vec::new(), pos);
    while let Some((s, e)) = word_at(text, at).filter(|_| words.len() < 6) {
        let raw = &text[s..e];
        let legal = !words.is_empty() && is_legal(raw);
        let word = raw.strip_suffix('.').filter(|_| !legal).unwrap_or(raw);
        let named = word.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
            && word.contains(char::is_alphabetic)
            && !(words.is_empty() && listed(STOP, word));
        if !(legal || named || word == "&" && !words.is_empty()) {
            break;
        }
        words.push(word);
        at = e;
        if raw.ends_with('.') {
            break;
        }
    }
    while words.last() == Some(&"&") {
        words.pop();
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// The value of a "company: …" form line, up to the end of the line or sentence.
fn field_value(rest: &str) -> Option<String> {
    let mut v = rest[..rest.find(['\n', '\r', ',', ';', '|']).unwrap_or(rest.len())].trim();
    v = v.find(". ").map_or(v, |i| &v[..i]);
    if !v.rsplit(' ').next().is_some_and(is_legal) {
        v = v.trim_end_matches('.');
    }
    let ok = v.contains(char::is_alphanumeric) && v.chars().count() <= 100;
    (ok && !listed(NO_VALUE, v)).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A contact from "name|email|phone|company", empty meaning None.
    fn c(fields: &str) -> Contact {
        let f: Vec<_> = fields
            .split('|')
            .map(|v| (!v.is_empty()).then(|| v.into()))
            .collect();
        Contact {
            name: f[0].clone(),
            email: f[1].clone(),
            phone: f[2].clone(),
            company: f[3].clone(),
        }
    }

    #[test]
    fn emails_are_validated_and_normalised() {
        assert_eq!(
            normalize_email("  Ana.Silva@Acme.COM "),
            Ok("Ana.Silva@acme.com".into())
        );
        let long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        let bad = [
            ("  ", "empty"),
            (long.as_str(), "254"),
            ("ana silva@acme.com", "spaces"),
            ("ana.acme.com", "no @"),
            ("ana@@acme.com", "more than one @"),
            ("@acme.com", "before the @"),
            ("ana..silva@acme.com", "invalid characters"),
            ("ana@acme", "no dot"),
            ("ana@acme..com", "invalid domain"),
            ("ana@-acme.com", "invalid domain"),
            ("ana@acme.c", "top-level"),
        ];
        for (input, problem) in bad {
            let err = normalize_email(input).unwrap_err();
            assert!(err.contains(problem), "{input:?} gave {err:?}");
        }
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        let good = [
            ("+1 (415) 555-0132", None, "+14155550132"),
            ("+351 912 345 678", None, "+351912345678"),
            ("00351912345678", None, "+351912345678"),
            ("+44 (0)20 7946 0958", None, "+442079460958"),
            ("0912.345/678", Some("351"), "+351912345678"),
            ("07700 900123", Some("+44"), "+447700900123"),
            ("06 1234 5678", Some("39"), "+390612345678"),
            ("1 415 555 0132", Some("1"), "+14155550132"),
            ("+351912345678", Some("1"), "+351912345678"),
        ];
        for (input, cc, want) in good {
            assert_eq!(normalize_phone(input, cc).as_deref(), Ok(want), "{input}");
        }
        let bad = [
            ("912 345 678", None, "no country code"),
            ("+1 800 FLOWERS", None, "letters"),
            ("+351 12", None, "too few"),
            ("+1234 5678 9012 3456", None, "too many"),
            ("912#345678", Some("351"), "unexpected character '#'"),
            ("912345678", Some("abc"), "invalid default country code"),
            ("+0 912 345 678", None, "cannot start with 0"),
            ("", Some("351"), "empty"),
        ];
        for (input, cc, problem) in bad {
            let err = normalize_phone(input, cc).unwrap_err();
            assert!(err.contains(problem), "{input:?} gave {err:?}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn extracts_what_visitors_state() {
        let cases = [
            ("Hi, my name is Ana Silva and I work at Acme Corp. Mail ana@Acme.com or +351 912 345 678.", "Ana Silva|ana@acme.com|+351912345678|Acme Corp."),
            ("I'm Ana from Acme, call me on 912 345 678", "Ana||912345678|Acme"),
            ("Hello, this is João Pereira from Globex Lda.", "João Pereira|||Globex Lda."),
            ("Name: Ana Silva\nCompany: acme inc.\nPhone: (415) 555-0132", "Ana Silva||4155550132|acme inc."),
            ("je m'appelle Marie Dupont", "Marie Dupont|||"),
            ("me llamo Carlos y quiero una demo", "Carlos|||"),
            ("Ich heiße Jan van der Berg und arbeite bei Siemens", "Jan van der Berg|||"),
            ("ich arbeite bei Siemens AG", "|||Siemens AG"),
            ("my name is ana, how much is it?", "Ana|||"),
            ("I am Ana Silva. Our company is Initech and we're growing", "Ana Silva|||Initech"),
            ("I'm calling from Umbrella Corp. about your plans", "|||Umbrella Corp."),
            ("I work for Procter & Gamble", "|||Procter & Gamble"),
            ("We work with Procter & Gamble", "|||"),
            ("My number is 912345678", "||912345678|"),
            ("whatsapp: 0044 20 7946 0958", "||+442079460958|"),
            ("Sure, 07700 900123 works", "||07700900123|"),
        ];
        for (message, want) in cases {
            assert_eq!(extract(message), c(want), "{message}");
        }
    }

    #[test]
    fn does_not_guess_from_ordinary_text() {
        let messages = [
            "My order #12345 hasn't arrived",
            "Order number 123 456 789 is late",
            "In order to sign up I need account 123456789 unlocked",
            "The enterprise plan is €1,299.00 per year, or $ 12 990 000 for life",
            "It costs 123 456 789 EUR",
            "We have 100 000 000 users and 123456789 page views",
            "Customers since 2019, we renewed in 2021 and 2023",
            "Archive: 2019 2020 2021",
            "On 15/01/2024 10 30 people joined, see 2024-01-15",
            "I'm interested in your pricing",
            "I'm Looking for a quote, I am Not sure which plan",
            "This is Great, thanks! This is Windows 10 Pro",
            "Please look at the Pricing page, I work from home",
            "Version 2.10.123456789 crashed with error 0x80070005",
            "Can you explain this to me? The API returns 404.",
            "Tickets 1234 5678 9012 are open; the server is 192.168.100.200",
        ];
        for message in messages {
            assert_eq!(extract(message), Contact::default(), "{message}");
        }
    }

    #[test]
    fn merge_takes_later_non_empty_values() {
        let mut contact = c("Ana|old@acme.com||Acme");
        contact.merge(c(" |new@acme.com|+351912345678|"));
        assert_eq!(contact, c("Ana|new@acme.com|+351912345678|Acme"));
    }

    #[test]
    fn reachable_means_email_or_phone() {
        assert!(!Contact::default().is_reachable());
        assert!(!c("Ana| ||Acme").is_reachable());
        assert!(c("||+351912345678|").is_reachable());
        assert!(c("|a@b.co||").is_reachable());
    }
}

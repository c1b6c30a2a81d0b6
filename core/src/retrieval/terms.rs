//! Keyword terms: lower-cased words without stopwords, lightly stemmed, so "returns",
//! "returning" and "returned" meet, as do a question's words and a passage's.

use std::collections::HashSet;
use std::sync::LazyLock;

const STOPWORDS: &str = "a about above after again against all am an and any are aren't as at be because been \
before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down \
during each few for from further had hadn't has hasn't have haven't having he her here hers herself him himself his \
how i i'm if in into is isn't it it's its itself let's me more most my myself no nor not of off on once only or other \
ought our ours ourselves out over own same she should shouldn't so some such than that that's the their theirs them \
themselves then there there's these they this those through to too under until up very was wasn't we were weren't \
what what's when where which while who whom why with won't would wouldn't you your yours yourself yourselves \
please many much \
el la los las un una de del y o que en es por para con se su sus al lo como le les des du et ou est une pour dans \
qui sur pas der die das und ein eine ist zu den von mit nicht im auf für o os um uma do da dos das em é il di che \
per non het een van en ik je";

static STOP: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOPWORDS.split_whitespace().collect());

/// True for words too common to say anything about a question.
pub fn is_stopword(word: &str) -> bool {
    STOP.contains(word)
}

/// The words of `text`, lower-cased (letters and digits; `_`, `-` and `'` split words,
/// except that an apostrophe inside a word is kept for the stopword check).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty() && w.len() <= 40)
}

/// The search terms of `text`: words minus stopwords, stemmed.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .filter(|w| !is_stopword(w))
        .map(|w| stem(&w.replace('\'', "")))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A light English stemmer: plural and verb endings and a final "e" (aggressive stemming
/// hurts precision on technical text more than it helps recall).
pub fn stem(word: &str) -> String {
    if !word.is_ascii() {
        return word.to_string();
    }
    let w = word;
    let n = w.len();
    let has_vowel = |s: &str| s.bytes().any(|b| b"aeiouy".contains(&b));
    let mut out = if n <= 3 {
        w.to_string()
    } else if w.ends_with("ies") || w.ends_with("ied") {
        format!("{}y", &w[..n - 3])
    } else if w.ends_with("sses") {
        w[..n - 2].to_string()
    } else if w.ends_with("ing") && n > 5 && has_vowel(&w[..n - 3]) {
        undouble(&w[..n - 3])
    } else if w.ends_with("ed") && !w.ends_with("eed") && n > 4 && has_vowel(&w[..n - 2]) {
        undouble(&w[..n - 2])
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..n - 1].to_string()
    } else {
        w.to_string()
    };
    if out.len() > 3 && out.ends_with('e') {
        out.pop();
    }
    out
}

/// "stopp" → "stop", "runn" → "run"; "call", "pass" and "add" stay.
fn undouble(base: &str) -> String {
    let b = base.as_bytes();
    let n = b.len();
    if n >= 4 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z') {
        return base[..n - 1].to_string();
    }
    base.to_string()
}

/// Words that only shape a question in the seven languages the agent speaks: question words,
/// pronouns, auxiliaries and generic verbs. They say what kind of answer is wanted (see
/// [`super::intent`]), not what it is about, so they carry no keyword weight.
const QUESTION_WORDS: &str = "how what when where which who whom whose why much many often far soon \
can could would should will shall may might must do does did done have has had get got gets getting \
need needs want wants wanna like know tell let make take takes something anything thing things stuff \
someone anyone kind sort way ways possible able there here please thanks thank hi hello hey ok okay \
you your yours we us our i me my mine it its is are be was were been am also just really actually \
still any some every all one ones guys again exactly currently ever whats dont im ive id youre \
theres isnt cant wont doesnt pls plz thx near pick go going max maximum minimum quickly \
qué que cuál cuáles cuánto cuánta cuántos cuántas cómo como cuándo cuando dónde donde quién por porque \
para puedo puede pueden podemos podría tengo tiene tienen tenemos hay hacer hago es son está están ser \
estar mi mis tu tus su sus usted ustedes yo nosotros algo alguien hola gracias favor también muy más \
lo la los las el un una unos unas de del al y o en con sin se le les me te nos \
qu quoi quel quelle quels quelles comment quand où combien pourquoi qui est-ce est ce c je j tu il elle \
nous vous ils elles on peux peut pouvez puis-je puis dois doit devez ai as a avez avons ont faire fais \
fait suis sommes êtes sont être mon ma mes ton ta tes votre vos notre nos leur leurs l des du d et ou \
au aux avec sans pour par sur dans ne n pas plus quelque chose bonjour merci \
was wie wo wann warum wer welche welcher welches wieviel viel viele kann kannst können könnte muss \
musst müssen darf soll will möchte ich du er sie wir ihr mich mir dich dir uns euch euer eure mein \
meine ihre sein seine der die das den dem des ein eine einen einem einer und oder ist sind war bin bist \
habe hast hat haben gibt man etwas zu zum zur für auf aus bei nach über um im an am mit von noch auch \
schon bitte danke hallo denn mal gibts genau drin sachen gerade wenn meinen euer eure euch \
os as um uma do da dos das no na nas ao aos pelo pela qual quais quanto quantos quanta quantas quem \
eu você vocês ele ela nós meu minha seu sua não é são estão ter tenho tem temos posso pode podem \
preciso faço fazer olá obrigado \
lo gli uno di da tra fra è sono chi cosa dove perché quale quali quanti quante puoi può possiamo \
potete devo deve ho hai ha abbiamo avete hanno io lui lei noi voi loro ti ci si vi mio mia suo vostro \
vostra nostro della dei delle alla nel nella qualcosa ciao grazie \
het een of zijn ben bent heb hebt heeft hebben ik jij je hij zij ze wij mij mijn jouw uw ons onze hun \
dit dat deze wat wie waar wanneer waarom hoe welke hoeveel kun kunt kunnen wilt zou moet mag met van \
voor naar op aan bij te uit niet geen ook nog er iets bedankt";

/// Words that ask for a kind of answer after a question word ("how long", "what time",
/// "wie lange", "cuánto tiempo") rather than name a topic.
const MODIFIERS: &[(&str, &str)] = &[
    ("how", "long"),
    ("how", "late"),
    ("how", "early"),
    ("what", "time"),
    ("which", "time"),
    ("wie", "lange"),
    ("wie", "lang"),
    ("hoe", "lang"),
    ("hoe", "laat"),
    ("cuánto", "tiempo"),
    ("cuanto", "tiempo"),
    ("qué", "hora"),
    ("que", "hora"),
    ("de", "temps"),
    ("quelle", "heure"),
    ("quanto", "tempo"),
    ("que", "horas"),
    ("che", "ora"),
];

static QUESTION: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| QUESTION_WORDS.split_whitespace().collect());

/// Whether a question word of `word` carries no topic (a question word, pronoun, auxiliary).
pub fn is_question_word(word: &str) -> bool {
    QUESTION.contains(word) || STOP.contains(word)
}

/// The content terms of a question: [`terms`] without the words that only shape the question
/// (see [`QUESTION_WORDS`], [`MODIFIERS`]), stemmed like the passages' terms.
pub fn query_terms(question: &str) -> Vec<String> {
    let ws: Vec<String> = words(question).collect();
    let mut out = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        if is_question_word(w) {
            continue;
        }
        let prev = i.checked_sub(1).map(|p| ws[p].as_str());
        if prev.is_some_and(|p| MODIFIERS.iter().any(|(a, b)| *a == p && b == w)) {
            continue;
        }
        let t = stem(&w.replace('\'', ""));
        if !t.is_empty() {
            out.push(t);
        }
    }
    out
}

/// The key questions are grouped by in knowledge gaps: sorted distinct terms.
pub fn gap_key(question: &str) -> String {
    let mut t = terms(question);
    t.sort();
    t.dedup();
    t.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_meet() {
        assert_eq!(stem("returns"), "return");
        assert_eq!(stem("returned"), "return");
        assert_eq!(stem("returning"), "return");
        assert_eq!(stem("policies"), "policy");
        assert_eq!(stem("stopping"), "stop");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("damaged"), stem("damage"));
        assert_eq!(stem("closing"), stem("close"));
        assert_eq!(stem("uses"), stem("use"));
        assert_eq!(stem("applied"), stem("apply"));
        assert_eq!(stem("added"), stem("add"));
        assert_eq!(stem("embedded"), "embed");
        assert_eq!(stem("string"), "string");
    }

    #[test]
    fn terms_drop_stopwords() {
        assert_eq!(
            terms("What is your return policy for damaged items?"),
            vec!["return", "policy", "damag", "item"]
        );
        assert_eq!(
            terms("#[must_use] attribute"),
            vec!["must", "use", "attribut"]
        );
    }

    #[test]
    fn query_terms_keep_only_what_the_question_is_about() {
        assert_eq!(
            query_terms("How long is the return window?"),
            vec!["return", "window"]
        );
        assert_eq!(
            query_terms("How many days do I have to return something?"),
            vec!["day", "return"]
        );
        assert_eq!(query_terms("What time do you open?"), vec!["open"]);
        assert_eq!(
            query_terms("Wie lange dauert der Versand?"),
            vec!["dauert", "versand"]
        );
        assert_eq!(query_terms("Do you sell bicycles?"), vec!["sell", "bicycl"]);
        assert_eq!(
            query_terms("long sleeve shirts"),
            vec!["long", "sleev", "shirt"]
        );
    }

    #[test]
    fn gap_keys_group_rephrasings() {
        assert_eq!(
            gap_key("Do you ship to Canada?"),
            gap_key("Canada: do you ship there?")
        );
        assert_ne!(
            gap_key("Do you ship to Canada?"),
            gap_key("Do you ship to Mexico?")
        );
    }
}

//! Visitor sentiment: a small multilingual valence lexicon with negation, intensifiers,
//! contrast, emphasis and emoji, combined over a conversation.

use std::collections::HashMap;
use std::sync::LazyLock;

/// How a visitor feels, as stored on the conversation.
pub use otoq_entities::enums::Sentiment;

/// Reading a sentiment label out of free text (an LLM's reply).
pub trait ParseLabel: Sized {
    /// Parses a name case-insensitively, ignoring surrounding whitespace and punctuation.
    fn parse(s: &str) -> Option<Self>;
}

impl ParseLabel for Sentiment {
    fn parse(s: &str) -> Option<Sentiment> {
        s.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
            .parse()
            .ok()
    }
}

/// Word valences, AFINN-style: each line is a valence from −4 to +4 and its words (English,
/// then es, fr, de, pt, it, nl). Topic words of support requests ("problem", "error",
/// "refund", "best", "easy") are left out so that plain questions score 0.
const LEXICON: &str = "
4 amazing awesome fantastic wonderful brilliant outstanding superb incredible
4 phenomenal exceptional marvelous marvellous flawless love loved lifesaver
3 great good excellent perfect lovely happy glad delighted pleased impressed
3 impressive beautiful pleasant successful wow yay hooray excited exciting kudos
3 bravo thrilled super adore adored nice
2 thank thanks thankyou thx cheers grateful thankful appreciate appreciated helpful
2 useful satisfied solved resolved smooth reliable recommend recommended friendly
2 polite enjoy enjoyed fun favorite favourite relieved neat sweet intuitive like
2 liked efficient valuable congrats congratulations cool seamless
-2 disappointed disappointing disappoint frustrated frustrating annoyed annoying
-2 annoy upset unhappy sad poor broken rude stupid nonsense waste wasted wasting
-2 confusing confused fail failed fails failing failure wrong mistake mess regret
-2 worried worry scared hopeless ignored ignoring buggy crashes crashed crashing
-2 complaint complain tired sick stuck hassle dissatisfied unsatisfied unfair slow
-2 ugh damn lied
-3 bad terrible awful horrible useless angry ridiculous crap sucks suck garbage
-3 rubbish incompetent unprofessional lies liar misleading disaster nightmare worse
-3 dreadful lousy disgusted furious outraged livid unusable unreliable overpriced
-3 dishonest ripoff hate hated hates
-4 worst horrendous pathetic atrocious abysmal unacceptable scam scammed fraud
-4 disgusting shit shitty fucking wtf pissed
3 excelente genial perfecto perfecta increíble maravilloso fantástico encanta
3 buenísimo feliz
2 bueno buena bien gracias contento contenta satisfecho satisfecha útil amable
-2 molesto molesta decepcionado decepcionada frustrado frustrada lento vergüenza
-3 malo mala fatal inútil enfadado enfadada enojado enojada odio peor desastre
-3 nefasto absurdo
-4 pésimo pésima estafa
3 génial parfait parfaite formidable magnifique ravi ravie agréable
2 merci satisfait satisfaite utile aimable aime
-2 déçu déçue décevant lent lente honte marre galère
-3 nul nulle mauvais mauvaise énervé énervée fâché fâchée furieux furieuse inutile
-3 pire catastrophe catastrophique inacceptable déteste
-4 arnaque
4 hervorragend ausgezeichnet wunderbar großartig
3 toll klasse perfekt glücklich begeistert
2 gut danke zufrieden hilfreich freundlich schön froh gefällt
-2 enttäuscht enttäuschend ärgerlich ärgert sauer frustriert mist
-3 schlecht schlechter schlimm schrecklich furchtbar verärgert wütend nutzlos mies
-3 unbrauchbar katastrophe katastrophal unverschämt hasse
-4 betrug abzocke scheiße scheisse
4 maravilhoso
3 ótimo ótima perfeito perfeita incrível adorei adoro
2 obrigado obrigada bom boa gostei satisfeito satisfeita
-2 chateado chateada vergonha
-3 ruim horrível terrível irritado irritada pior golpe odeio lixo
-4 péssimo péssima
4 fantastico bellissimo meraviglioso
3 ottimo ottima eccellente perfetto perfetta felice
2 grazie bello bella buono gentile soddisfatto soddisfatta
-2 brutto brutta deluso delusa vergogna
-3 terribile orribile arrabbiato arrabbiata peggio peggiore cattivo scandaloso
-3 inaccettabile
-4 pessimo pessima truffa schifo
4 geweldig uitstekend fantastisch
3 blij prachtig heerlijk
2 goed fijn mooi bedankt dank tevreden handig vriendelijk behulpzaam leuk
-2 teleurgesteld teleurstellend traag irritant balen
-3 slecht slechte vreselijk verschrikkelijk boos kwaad nutteloos waardeloos erger
-3 schandalig belachelijk
-4 slechtste oplichting
";

/// Verbs of things working or helping: neutral alone, clearly negative when negated.
const FUNCTIONS: &str = "\
    work works working worked help helps helped funciona funcionan funcionó ayuda ayudó \
    fonctionne fonctionnent marche marchent aide funktioniert funktionieren klappt geht \
    hilft geholfen funcionou ajuda ajudou funziona funzionano aiuta werkt werken \
    functioneert helpt";

const NEGATORS: &str = "\
    not no never nor neither without cannot hardly nothing dont doesnt didnt isnt wasnt \
    arent cant couldnt wont wouldnt havent hasnt aint nunca jamás ni nada tampoco sin ne n \
    pas jamais rien aucun aucune sans nicht kein keine keinen keinem keiner nie niemals \
    nichts ohne não nao nem sem non mai niente nessun nessuno nessuna senza niet geen nooit \
    niets zonder";

/// Negators that may follow the word they negate ("funktioniert nicht", "marche pas").
const POSTPOSED_NEGATORS: &str = "nicht niet pas";

const INTENSIFIERS: &str = "\
    very really extremely so too super totally absolutely incredibly completely utterly \
    truly highly muy tan realmente súper demasiado très vraiment trop tellement sehr \
    wirklich total echt extrem absolut völlig erg heel zeer ontzettend enorm molto davvero \
    troppo veramente muito tão totalmente completamente extremamente";

const DAMPENERS: &str = "\
    slightly somewhat fairly rather kinda bit little poco peu etwas bisschen beetje pouco \
    po";

/// Words after which the rest of the sentence carries more weight.
const CONTRASTS: &str = "\
    but however pero mais cependant aber jedoch mas porém ma però tuttavia maar echter";

/// Nouns after which "good"/"bom"/... is only a greeting ("good morning", "boa tarde").
const GREETING_TIMES: &str = "\
    morning afternoon evening day night día días tarde tardes noche noches dia noite \
    journée soirée tag morgen abend giorno sera serata dag middag avond";

const GRATITUDE: &str =
    "thank thanks thx gracias merci danke obrigado obrigada grazie bedankt dank";

/// Words that make "like" a feeling rather than a wish or comparison ("I like", "don't like").
const LIKE_SUBJECTS: &str = "i we they not never do did also just";

const POSITIVE_EMOTICONS: &str = ":) :-) :D :-D ;) ;-) =) <3 :]";
const NEGATIVE_EMOTICONS: &str = ":( :-( :'( :-/ :[";
const POSITIVE_EMOJI: &str = "🙂😀😃😄😁😊😍🥰😘👍❤💖💕🎉🙏😉🤩😎👌✨🥳";
const NEGATIVE_EMOJI: &str = "🙁☹😞😟😢😭😠😡🤬👎😤😒😩😫😣😖💔🤮😕";

static VALENCES: LazyLock<HashMap<&'static str, i8>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for line in LEXICON.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let valence = words.next().and_then(|v| v.parse::<i8>().ok());
        let valence = valence.expect("each lexicon line starts with a valence");
        map.extend(words.map(|w| (w, valence)));
    }
    map
});

/// Whether `word` is one of the whitespace-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// A word (lowercased, whether it was written in capitals), or `None` for a clause break.
type Token = Option<(String, bool)>;

fn tokenize(text: &str) -> Vec<Token> {
    let text = text
        .replace('’', "'")
        .replace("n't", " not")
        .replace("N'T", " NOT");
    fn flush(word: &mut String, tokens: &mut Vec<Token>) {
        if !word.is_empty() {
            let caps = word.chars().count() > 1 && !word.chars().any(char::is_lowercase);
            tokens.push(Some((word.to_lowercase(), caps)));
            word.clear();
        }
    }
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut tokens);
        if ",.;:!?()\n".contains(c) && tokens.last().is_some_and(Option::is_some) {
            tokens.push(None);
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// Up to `n` words before token `i`, nearest first, stopping at a clause break.
fn before(tokens: &[Token], i: usize, n: usize) -> impl Iterator<Item = &str> {
    let words = tokens[..i].iter().rev().take(n);
    words.map_while(|t| t.as_ref().map(|(w, _)| w.as_str()))
}

/// Up to `n` words after token `i`, stopping at a clause break.
fn after(tokens: &[Token], i: usize, n: usize) -> impl Iterator<Item = &str> {
    let words = tokens[i + 1..].iter().take(n);
    words.map_while(|t| t.as_ref().map(|(w, _)| w.as_str()))
}

fn is_negated(tokens: &[Token], i: usize) -> bool {
    before(tokens, i, 3).any(|w| listed(NEGATORS, w))
        || after(tokens, i, 2).any(|w| listed(POSTPOSED_NEGATORS, w))
}

/// The signed contribution of token `i`, before contrast weighting.
fn valence(tokens: &[Token], i: usize) -> Option<f32> {
    let (word, caps) = tokens[i].as_ref()?;
    let word = word.as_str();
    if listed(FUNCTIONS, word) {
        return is_negated(tokens, i).then_some(-2.0);
    }
    let mut v = f32::from(*VALENCES.get(word)?);
    let prev = before(tokens, i, 1).next().unwrap_or("");
    if (word == "like" && !listed(LIKE_SUBJECTS, prev))
        || (word == "love" && listed("would d", prev))
    {
        return None;
    }
    if after(tokens, i, 1).any(|w| listed(GREETING_TIMES, w)) {
        return None;
    }
    // An intensifier that is also a word ("super") only counts alone when it boosts nothing.
    if listed(INTENSIFIERS, word) && after(tokens, i, 2).any(|w| VALENCES.contains_key(w)) {
        return None;
    }
    if before(tokens, i, 2).any(|w| listed(INTENSIFIERS, w)) {
        v *= 1.4;
    } else if before(tokens, i, 2).any(|w| listed(DAMPENERS, w)) {
        v *= 0.6;
    }
    if *caps {
        v *= 1.3;
    }
    if is_negated(tokens, i) {
        // "no thanks", "nein danke": a polite refusal, not ingratitude.
        if listed(GRATITUDE, word) {
            return None;
        }
        v *= -0.74;
    }
    Some(v)
}

fn emoticons(text: &str) -> f32 {
    let count = |list: &str| {
        let mut n = 0;
        for emoticon in list.split_whitespace() {
            for (at, _) in text.match_indices(emoticon) {
                let next = text[at + emoticon.len()..].chars().next();
                n += usize::from(!next.is_some_and(char::is_alphanumeric));
            }
        }
        n
    };
    let positive =
        count(POSITIVE_EMOTICONS) + text.chars().filter(|c| POSITIVE_EMOJI.contains(*c)).count();
    let negative =
        count(NEGATIVE_EMOTICONS) + text.chars().filter(|c| NEGATIVE_EMOJI.contains(*c)).count();
    2.0 * (positive as f32 - negative as f32)
}

/// Lexicon score of one message in [-1, 1], from word valences adjusted for negation, intensifiers, "but", emphasis and emoji; neutral questions score 0.
pub fn score_message(text: &str) -> f32 {
    let tokens = tokenize(text);
    let pivot = tokens
        .iter()
        .rposition(|t| t.as_ref().is_some_and(|(w, _)| listed(CONTRASTS, w)));
    let mut sum: f32 = (0..tokens.len())
        .filter_map(|i| {
            let weight = match pivot {
                Some(p) if i < p => 0.5,
                Some(p) if i > p => 1.5,
                _ => 1.0,
            };
            valence(&tokens, i).map(|v| v * weight)
        })
        .sum();
    sum += emoticons(text);
    if sum != 0.0 {
        let bangs = text.matches('!').count().min(4) as f32;
        sum += sum.signum() * 0.25 * bangs;
    }
    // Saturating map: one ±3 word gives ±0.6, many strong words approach ±1.
    (sum / (sum * sum + 16.0).sqrt()).clamp(-1.0, 1.0)
}

/// Weight of a message relative to the one after it.
const DECAY: f32 = 0.7;

/// Combines message scores of a conversation, later messages weighing more (decay 0.7 per step back), into one score in [-1, 1].
pub fn combine(scores: &[f32]) -> f32 {
    let (mut total, mut weights, mut w) = (0.0, 0.0, 1.0);
    // Neutral messages (plain questions) carry no feeling: they neither dilute nor decay it.
    for &score in scores.iter().rev().filter(|s| **s != 0.0) {
        total += w * score;
        weights += w;
        w *= DECAY;
    }
    if weights == 0.0 {
        0.0
    } else {
        (total / weights).clamp(-1.0, 1.0)
    }
}

/// Positive above +0.15, negative below −0.15, else neutral.
pub fn classify(score: f32) -> Sentiment {
    if score > 0.15 {
        Sentiment::Positive
    } else if score < -0.15 {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Sentiment {
        classify(score_message(text))
    }

    #[test]
    fn names_round_trip_and_tolerate_llm_noise() {
        for s in [Sentiment::Positive, Sentiment::Neutral, Sentiment::Negative] {
            assert_eq!(Sentiment::parse(s.as_str()), Some(s));
        }
        assert_eq!(Sentiment::parse("Negative."), Some(Sentiment::Negative));
        assert_eq!(
            Sentiment::parse("  \"POSITIVE\"\n"),
            Some(Sentiment::Positive)
        );
        assert_eq!(Sentiment::parse("**neutral**"), Some(Sentiment::Neutral));
        assert_eq!(Sentiment::parse("mixed"), None);
        assert_eq!(Sentiment::parse(""), None);
    }

    #[test]
    fn classifies_clear_english_messages() {
        assert_eq!(
            class("This is great, thank you so much!"),
            Sentiment::Positive
        );
        assert_eq!(
            class("This is useless, I'm very disappointed and angry"),
            Sentiment::Negative
        );
        assert_eq!(class("I don't like it"), Sentiment::Negative);
        assert_eq!(class("It doesn't work"), Sentiment::Negative);
        assert_ne!(class("not bad at all"), Sentiment::Negative);
        assert_eq!(class("No thanks, that's all"), Sentiment::Neutral);
    }

    #[test]
    fn neutral_questions_score_zero() {
        for text in [
            "How do I reset my password?",
            "What is the shipping time to Canada?",
            "Good morning, where can I find my invoice?",
            "I would like to change my plan",
            "I'd love to know more about the API",
            "What's the best way to export my data?",
            "¿Cuál es su política de devoluciones?",
            "Wie kann ich mein Passwort ändern?",
        ] {
            assert_eq!(score_message(text), 0.0, "{text}");
        }
    }

    #[test]
    fn classifies_other_languages() {
        assert_eq!(class("El servicio es excelente"), Sentiment::Positive);
        assert_eq!(class("No funciona"), Sentiment::Negative);
        assert_eq!(class("C'est nul, très déçu"), Sentiment::Negative);
        assert_eq!(class("Ce n'est pas bien"), Sentiment::Negative);
        assert_eq!(class("Das ist nicht gut"), Sentiment::Negative);
        assert_eq!(class("Es funktioniert nicht"), Sentiment::Negative);
        assert_eq!(class("Ótimo atendimento, obrigado"), Sentiment::Positive);
        assert_eq!(class("Servizio pessimo"), Sentiment::Negative);
        assert_eq!(
            class("Heel erg bedankt, super geholpen!"),
            Sentiment::Positive
        );
    }

    #[test]
    fn one_word_is_moderate_and_many_saturate() {
        let one = score_message("great");
        assert!((0.3..=0.65).contains(&one), "{one}");
        let bad = score_message("bad");
        assert!((-0.65..=-0.3).contains(&bad), "{bad}");
        let many = score_message("Amazing, wonderful, fantastic, brilliant service! Love it!!");
        assert!(many > 0.9 && many <= 1.0, "{many}");
        let worst = score_message("Worst, most pathetic, useless scam ever. I HATE it!!!!!!");
        assert!((-1.0..-0.9).contains(&worst), "{worst}");
    }

    #[test]
    fn modifiers_change_strength() {
        assert!(score_message("very good") > score_message("good"));
        assert!(score_message("slightly disappointed") > score_message("disappointed"));
        assert!(score_message("GREAT") > score_message("great"));
        assert!(score_message("great!!") > score_message("great"));
        assert!(score_message("not good") < 0.0);
        assert!(score_message("not very good") < 0.0);
    }

    #[test]
    fn the_clause_after_but_weighs_more() {
        let text = "The product is good but the support is terrible";
        assert_eq!(class(text), Sentiment::Negative);
        let text = "Shipping was slow, but the team was wonderful";
        assert_eq!(class(text), Sentiment::Positive);
    }

    #[test]
    fn emoticons_and_emoji_count() {
        assert_eq!(class("ok :)"), Sentiment::Positive);
        assert_eq!(class("ok 🙂"), Sentiment::Positive);
        assert_eq!(class("still waiting :("), Sentiment::Negative);
        assert_eq!(class("😡😡"), Sentiment::Negative);
        assert_eq!(score_message("See https://example.com/help:Docs"), 0.0);
    }

    #[test]
    fn combine_weights_later_messages_more() {
        assert_eq!(combine(&[]), 0.0);
        assert!((combine(&[0.4]) - 0.4).abs() < 1e-6);
        assert!(combine(&[0.8, -0.8]) < 0.0);
        assert!(combine(&[-0.8, 0.8]) > 0.0);
        // Above the plain mean (−0.3) because the latest, positive message weighs most.
        let c = combine(&[-0.9, -0.9, 0.9]);
        assert!(c > -0.3 && c < 0.0, "{c}");
        assert!(combine(&[1.0, 1.0, 1.0]) <= 1.0);
        assert_eq!(classify(combine(&[-0.6, -0.5, 0.0])), Sentiment::Negative);
    }

    #[test]
    fn classify_uses_the_thresholds() {
        assert_eq!(classify(0.16), Sentiment::Positive);
        assert_eq!(classify(0.15), Sentiment::Neutral);
        assert_eq!(classify(0.0), Sentiment::Neutral);
        assert_eq!(classify(-0.15), Sentiment::Neutral);
        assert_eq!(classify(-0.16), Sentiment::Negative);
    }
}

//! Courtesy messages ("hi", "thanks!", "bye") get a courteous reply, not a knowledge search
//! that would answer "I don't have information about that" (and pollute the knowledge gaps).

use super::language::Lang;

/// A message that is only courtesy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmallTalk {
    Greeting,
    Thanks,
    Goodbye,
}

const GREETINGS: &str = "hi hello hey hiya howdy greetings morning afternoon evening good \
hola buenos buenas dias días tardes noches bonjour salut bonsoir coucou hallo moin servus guten tag \
morgen abend olá ola oi bom boa dia tarde noite ciao buongiorno buonasera salve hoi goedemorgen \
goedemiddag goedenavond dag";
const THANKS: &str = "thanks thank thx ty cheers appreciated appreciate gracias merci danke \
dankeschön obrigado obrigada grazie bedankt dank";
const GOODBYES: &str = "bye goodbye byebye cya see later adiós adios hasta luego chao revoir au \
tschüss tschüs wiedersehen auf tchau adeus arrivederci doei tot ziens";
/// Words that may accompany courtesy without making it a question.
const FILLER: &str = "ok okay great perfect awesome cool nice so much very a lot you there again for \
the help your all everyone bot and now muchas mucho beaucoup merci vielen vielmals muito molte \
mille tante hartelijk wel je u de la le el los les tout todo tutto to it that's that thats";

fn has(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// What courtesy `text` is, if it is nothing else.
pub fn detect(text: &str) -> Option<SmallTalk> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > 8 {
        return None;
    }
    let (mut greet, mut thanks, mut bye) = (false, false, false);
    for w in &words {
        if has(THANKS, w) {
            thanks = true;
        } else if has(GOODBYES, w) {
            bye = true;
        } else if has(GREETINGS, w) {
            greet = true;
        } else if !has(FILLER, w) {
            return None;
        }
    }
    // "good" alone, or "see you", is not enough on its own.
    let greeting_word = words.iter().any(|w| {
        has(GREETINGS, w)
            && !matches!(
                *w,
                "good" | "bom" | "boa" | "dia" | "días" | "dias" | "tag" | "dag"
            )
    });
    let bye_word = words
        .iter()
        .any(|w| has(GOODBYES, w) && !matches!(*w, "see" | "au" | "auf" | "tot" | "hasta"));
    if bye && bye_word {
        return Some(SmallTalk::Goodbye);
    }
    if thanks {
        return Some(SmallTalk::Thanks);
    }
    if greet && (greeting_word || words.len() >= 2) {
        return Some(SmallTalk::Greeting);
    }
    None
}

/// The reply to courtesy in `lang`.
pub fn reply(kind: SmallTalk, lang: Lang) -> &'static str {
    use SmallTalk::*;
    match (lang, kind) {
        (Lang::En, Greeting) => "Hello! How can I help you today?",
        (Lang::En, Thanks) => "You're welcome! Is there anything else I can help you with?",
        (Lang::En, Goodbye) => "Goodbye, and thank you for reaching out!",
        (Lang::Es, Greeting) => "¡Hola! ¿En qué puedo ayudarle hoy?",
        (Lang::Es, Thanks) => "¡De nada! ¿Hay algo más en lo que pueda ayudarle?",
        (Lang::Es, Goodbye) => "¡Hasta luego y gracias por escribirnos!",
        (Lang::Fr, Greeting) => "Bonjour\u{a0}! Comment puis-je vous aider aujourd'hui\u{a0}?",
        (Lang::Fr, Thanks) => "Je vous en prie\u{a0}! Puis-je vous aider pour autre chose\u{a0}?",
        (Lang::Fr, Goodbye) => "Au revoir, et merci de nous avoir contactés\u{a0}!",
        (Lang::De, Greeting) => "Hallo! Wie kann ich Ihnen heute helfen?",
        (Lang::De, Thanks) => "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
        (Lang::De, Goodbye) => "Auf Wiedersehen und danke für Ihre Nachricht!",
        (Lang::Pt, Greeting) => "Olá! Como posso ajudar hoje?",
        (Lang::Pt, Thanks) => "De nada! Posso ajudar em mais alguma coisa?",
        (Lang::Pt, Goodbye) => "Até logo, e obrigado pelo contato!",
        (Lang::It, Greeting) => "Salve! Come posso aiutarla oggi?",
        (Lang::It, Thanks) => "Prego! Posso aiutarla in qualcos'altro?",
        (Lang::It, Goodbye) => "Arrivederci, e grazie per averci scritto!",
        (Lang::Nl, Greeting) => "Hallo! Waarmee kan ik u vandaag helpen?",
        (Lang::Nl, Thanks) => "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
        (Lang::Nl, Goodbye) => "Tot ziens, en bedankt voor uw bericht!",
    }
}

/// The reply when a visitor leaves contact details: they were noted and someone will follow up.
pub fn contact_noted(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "Thank you! I've noted your contact details, and a member of our team will get back to you."
        }
        Lang::Es => {
            "¡Gracias! He anotado sus datos de contacto y un miembro de nuestro equipo se pondrá en contacto con usted."
        }
        Lang::Fr => {
            "Merci\u{a0}! J'ai bien noté vos coordonnées\u{a0}; un membre de notre équipe vous recontactera."
        }
        Lang::De => {
            "Vielen Dank! Ich habe Ihre Kontaktdaten notiert; jemand aus unserem Team meldet sich bei Ihnen."
        }
        Lang::Pt => {
            "Obrigado! Anotei os seus dados de contato e um membro da nossa equipe entrará em contato."
        }
        Lang::It => {
            "Grazie! Ho annotato i suoi recapiti e un membro del nostro team la ricontatterà."
        }
        Lang::Nl => {
            "Dank u! Ik heb uw contactgegevens genoteerd; iemand van ons team neemt contact met u op."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_courtesy_only() {
        assert_eq!(detect("Hi!"), Some(SmallTalk::Greeting));
        assert_eq!(detect("Good morning"), Some(SmallTalk::Greeting));
        assert_eq!(detect("Hola, buenos días"), Some(SmallTalk::Greeting));
        assert_eq!(detect("Thanks a lot!"), Some(SmallTalk::Thanks));
        assert_eq!(
            detect("ok great, thank you so much"),
            Some(SmallTalk::Thanks)
        );
        assert_eq!(detect("Merci beaucoup"), Some(SmallTalk::Thanks));
        assert_eq!(detect("Thanks, bye!"), Some(SmallTalk::Goodbye));
        assert_eq!(detect("Tschüss"), Some(SmallTalk::Goodbye));
        assert_eq!(detect("Hi, what are your opening hours?"), None);
        assert_eq!(detect("Thanks, and do you ship to Spain?"), None);
        assert_eq!(detect("good"), None);
        assert_eq!(detect("see you"), None);
        assert_eq!(detect(""), None);
    }
}

//! Languages: recognising the agent's setting and the visitor's language, the fixed texts,
//! and spotting "yes" replies and requests for a person.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::RegexSet;

/// A language the agent has fixed texts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Es,
    Fr,
    De,
    Pt,
    It,
    Nl,
}

impl Lang {
    /// Every language, in declaration order.
    pub const ALL: [Lang; 7] = [
        Lang::En,
        Lang::Es,
        Lang::Fr,
        Lang::De,
        Lang::Pt,
        Lang::It,
        Lang::Nl,
    ];

    /// The ISO 639-1 code, e.g. "en".
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Pt => "pt",
            Lang::It => "it",
            Lang::Nl => "nl",
        }
    }

    /// The English name, e.g. "Spanish".
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Spanish",
            Lang::Fr => "French",
            Lang::De => "German",
            Lang::Pt => "Portuguese",
            Lang::It => "Italian",
            Lang::Nl => "Dutch",
        }
    }

    /// From an agent's language setting: a BCP-47 tag ("en", "pt-BR", "fr-ca", case-insensitive) or a name ("French", "français", "Deutsch"). None if not one of ours.
    pub fn from_setting(s: &str) -> Option<Lang> {
        let s = s.trim().to_lowercase();
        let s = s.split('(').next().unwrap_or("").trim();
        let primary = s.split(['-', '_']).next().unwrap_or("");
        let line = NAMES.lines().find(|l| l.split(' ').any(|w| w == primary))?;
        by_code(line.split(' ').next()?)
    }
}

/// Codes (ISO 639-1 first, then 639-2) and names of each language, in English and natively.
const NAMES: &str = "\
en eng english inglés ingles anglais englisch
es spa spanish español espanol castellano espagnol
fr fra fre french français francais francés französisch
de deu ger german deutsch alemán allemand tedesco
pt por portuguese português portugues portugués
it ita italian italiano italien italienisch
nl nld dut dutch nederlands flemish vlaams néerlandais";

/// Function words per language (a line each, led by its code); a word listed under several
/// languages counts 1/n for each.
const STOPWORDS: &str = "
en the a an and or but is are was were be been do does did have has had i you he she it we they
en me my your our their this that these those what which who when where why how can could would
en should will may might must to of in on at for with from by about if not no yes please thanks
en thank hello hi there here get want need am any some
en order cost price shipping delivery refund
es el la los las un una unos unas y o de del al en es son está están estoy fue ser que qué cuál
es cual cuáles cómo como cuándo cuando dónde donde por para con sin su sus mi mis tu yo usted
es ustedes se lo le les me te nos muy más mas pero sí si no hola gracias puedo puede quiero
es necesito hay tengo tiene este esta esto eso cuánto hacer también
es cuesta envío contraseña pedido cuenta precio
fr le la les un une des du de et ou est sont être avoir a ai as avez je tu il elle nous vous
fr ils elles on ce cet cette ces mon ma mes votre vos notre nos leur que qui quoi quel quelle
fr quels quelles comment pourquoi quand où dans pour par sur avec sans pas ne n plus mais
fr bonjour merci oui non peux pouvez voudrais veux faire au aux en y si très c l j qu te me
fr commande livraison passe compte coûte prix
de der die das den dem des ein eine einen einem einer und oder ist sind war bin bist sein haben
de habe hat ich du er sie es wir ihr mich mir dich dir uns mein meine meinen meinem ihre ihren
de ihnen nicht kein keine wie was wo wann warum wer welche welcher kann können könnte kannst
de möchte will muss mit von zu zum zur für auf aus bei nach über um im in an am auch noch schon
de sehr hallo danke bitte ja nein nur aber wenn dass als
de bestellung lieferung passwort konto kostet rechnung preis
pt o a os as um uma e é de do da dos das no na nos nas em ao aos pelo pela por para com sem que
pt qual quais quando onde como porque eu você vocês ele ela nós meu minha seu sua se não sim
pt muito mais mas está estão estou ser ter tenho tem posso pode quero preciso olá obrigado
pt obrigada isso isto este esta esse essa há foi também já te me
pt quanto custa frete senha pedido conta entrega preço faço
it il lo la i gli le un uno una di da in con su per tra fra e ed o è sono sei siamo ho hai ha
it abbiamo avete hanno io tu lui lei noi voi loro mi ti ci si vi mio mia miei suo sua nostro
it vostro che chi cosa come quando dove perché quale quali quanto non più ma anche molto ciao
it grazie sì posso puoi può vorrei voglio del della dei delle al alla nel nella questo questa
it quello te me no
it ordine spedizione consegna costa prezzo
nl de het een en of is zijn was ben bent heb hebt heeft hebben ik jij je u hij zij ze wij we
nl mij mijn jouw uw ons onze hun dit dat deze die wat wie waar wanneer waarom hoe welke kan kun
nl kunt kunnen wil wilt zou moet met van voor naar op in aan bij om te uit over niet geen ook
nl nog al heel erg hallo dank bedankt graag ja nee maar als er
nl bestelling levering wachtwoord kost rekening verzending prijs
";

/// Characters or spellings that only some languages use, as `marker:code+code`.
const MARKERS: &str = "¿:es ¡:es ñ:es ción:es ß:de ä:de ö:de ü:de ã:pt õ:pt ção:pt ções:pt œ:fr \
    ç:fr+pt è:fr+it ê:fr+pt ì:it ò:it ij:nl";

static STOPWORD_LANGS: LazyLock<HashMap<&'static str, Vec<Lang>>> = LazyLock::new(|| {
    let mut map: HashMap<&str, Vec<Lang>> = HashMap::new();
    for line in STOPWORDS.lines().filter(|l| !l.is_empty()) {
        let mut words = line.split(' ');
        let lang = words
            .next()
            .and_then(by_code)
            .expect("stopword lines start with a code");
        for word in words {
            let langs = map.entry(word).or_default();
            if !langs.contains(&lang) {
                langs.push(lang);
            }
        }
    }
    map
});

fn by_code(code: &str) -> Option<Lang> {
    Lang::ALL.into_iter().find(|l| l.code() == code)
}

/// Lowercases and turns every run of non-alphanumeric characters into one space.
fn normalize(text: &str) -> String {
    let lower = text.to_lowercase();
    let spaced: String = lower
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Detects the language of a visitor's message from stopword/character profiles; None when the text is too short or ambiguous to tell (e.g. "ok", "Rust?", a product code).
pub fn detect(text: &str) -> Option<Lang> {
    let mut scores = [0.0f32; 7];
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphabetic()) {
        if let Some(langs) = STOPWORD_LANGS.get(word) {
            for &lang in langs {
                scores[lang as usize] += 1.0 / langs.len() as f32;
            }
        }
    }
    for entry in MARKERS.split(' ') {
        let (marker, codes) = entry.split_once(':').expect("markers are marker:codes");
        if lower.contains(marker) {
            let langs: Vec<Lang> = codes.split('+').filter_map(by_code).collect();
            for &lang in &langs {
                scores[lang as usize] += 1.0 / langs.len() as f32;
            }
        }
    }
    let mut ranked: Vec<(Lang, f32)> = Lang::ALL.iter().map(|&l| (l, scores[l as usize])).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, top) = ranked[0];
    (top >= 1.0 && top - ranked[1].1 >= 0.5).then_some(best)
}

/// The agent's fixed texts in one language.
pub struct Templates {
    /// Said when the knowledge does not cover the question (must say honestly that it does not have that information).
    pub no_information: &'static str,
    /// Offer to connect with a human, appended after no_information (a question, e.g. "Would you like me to connect you with a member of our team?").
    pub handoff_offer: &'static str,
    /// Said when a handoff was requested: a person has been notified and will follow up (by email / in this conversation).
    pub handoff_confirmed: &'static str,
    /// Said to later visitor messages while waiting for the human: the message was passed on, the AI will not answer.
    pub handoff_pending: &'static str,
    /// Introduces an extractive answer quoting the documentation, e.g. "Here is what I found:" (used rarely; keep short).
    pub found_intro: &'static str,
    /// Lead-in for a further relevant passage, e.g. "Also:".
    pub also: &'static str,
}

static TEMPLATES: [Templates; 7] = [
    Templates {
        no_information: "I'm sorry, but I don't have information about that.",
        handoff_offer: "Would you like me to connect you with a member of our team?",
        handoff_confirmed: "I've notified our team, and someone will follow up with you by email \
                            or here in this conversation.",
        handoff_pending: "Thank you, I've passed your message on to our team. A team member will \
                          reply to you personally, so I won't answer in the meantime.",
        found_intro: "Here is what I found:",
        also: "Also:",
    },
    Templates {
        no_information: "Lo siento, pero no tengo información sobre eso.",
        handoff_offer: "¿Quiere que le ponga en contacto con un miembro de nuestro equipo?",
        handoff_confirmed: "He avisado a nuestro equipo; una persona se pondrá en contacto con \
                            usted por correo electrónico o en esta conversación.",
        handoff_pending: "Gracias, he transmitido su mensaje a nuestro equipo. Un miembro del \
                          equipo le responderá personalmente, así que no responderé mientras tanto.",
        found_intro: "Esto es lo que he encontrado:",
        also: "Además:",
    },
    Templates {
        no_information: "Je suis désolé, mais je ne dispose pas d'informations à ce sujet.",
        handoff_offer: "Souhaitez-vous que je vous mette en relation avec un membre de notre \
                        équipe\u{a0}?",
        handoff_confirmed: "J'ai prévenu notre équipe\u{a0}: une personne vous recontactera par \
                            e-mail ou directement dans cette conversation.",
        handoff_pending: "Merci, j'ai transmis votre message à notre équipe. Un membre de l'équipe \
                          vous répondra personnellement\u{a0}; je ne répondrai donc pas d'ici là.",
        found_intro: "Voici ce que j'ai trouvé\u{a0}:",
        also: "De plus\u{a0}:",
    },
    Templates {
        no_information: "Es tut mir leid, aber dazu liegen mir keine Informationen vor.",
        handoff_offer: "Möchten Sie, dass ich Sie mit einem Mitglied unseres Teams verbinde?",
        handoff_confirmed: "Ich habe unser Team benachrichtigt. Jemand wird sich per E-Mail oder \
                            hier in diesem Gespräch bei Ihnen melden.",
        handoff_pending: "Danke, ich habe Ihre Nachricht an unser Team weitergeleitet. Ein \
                          Teammitglied wird Ihnen persönlich antworten, daher antworte ich in der \
                          Zwischenzeit nicht.",
        found_intro: "Folgendes habe ich gefunden:",
        also: "Außerdem:",
    },
    Templates {
        no_information: "Desculpe, mas não tenho informações sobre isso.",
        handoff_offer: "Gostaria que eu colocasse você em contato com um membro da nossa equipe?",
        handoff_confirmed: "Avisei a nossa equipe, e uma pessoa entrará em contato com você por \
                            e-mail ou aqui nesta conversa.",
        handoff_pending: "Obrigado, encaminhei sua mensagem para a nossa equipe. Um membro da \
                          equipe responderá a você pessoalmente, por isso não vou responder \
                          enquanto isso.",
        found_intro: "Veja o que encontrei:",
        also: "Além disso:",
    },
    Templates {
        no_information: "Mi dispiace, ma non ho informazioni al riguardo.",
        handoff_offer: "Vuole che la metta in contatto con un membro del nostro team?",
        handoff_confirmed: "Ho avvisato il nostro team: una persona la ricontatterà via e-mail o \
                            direttamente in questa conversazione.",
        handoff_pending: "Grazie, ho inoltrato il suo messaggio al nostro team. Un membro del team \
                          le risponderà personalmente, quindi nel frattempo non risponderò.",
        found_intro: "Ecco cosa ho trovato:",
        also: "Inoltre:",
    },
    Templates {
        no_information: "Het spijt me, maar daar heb ik geen informatie over.",
        handoff_offer: "Wilt u dat ik u in contact breng met een medewerker van ons team?",
        handoff_confirmed: "Ik heb ons team op de hoogte gebracht. Iemand neemt per e-mail of hier \
                            in dit gesprek contact met u op.",
        handoff_pending: "Bedankt, ik heb uw bericht doorgestuurd naar ons team. Een teamlid \
                          antwoordt u persoonlijk, dus ik reageer in de tussentijd niet.",
        found_intro: "Dit is wat ik heb gevonden:",
        also: "Daarnaast:",
    },
];

/// The fixed texts for `lang`.
pub fn templates(lang: Lang) -> &'static Templates {
    &TEMPLATES[lang as usize]
}

/// Normalised replies that accept an offer, alone or at the start of a short reply.
const AFFIRMATIVES: &str = "\
    yes, yeah, yep, yup, sure, ok, okay, okey, alright, all right, please, of course, \
    absolutely, definitely, certainly, go ahead, sounds good, why not, that would be great, \
    i would like that, i d like that, perfect, great, sí, si, claro, vale, por favor, \
    de acuerdo, dale, perfecto, por supuesto, adelante, me parece bien, oui, ouais, \
    d accord, volontiers, bien sûr, avec plaisir, s il vous plaît, s il te plaît, parfait, \
    allez y, entendu, je veux bien, ja, jawohl, gerne, gern, klar, natürlich, bitte, \
    einverstanden, sicher, auf jeden fall, passt, sim, pode ser, com certeza, pode, certo, \
    beleza, tudo bem, está bem, tá bom, perfeito, quero, sì, certamente, va bene, \
    volentieri, per favore, d accordo, perfetto, sicuro, graag, zeker, prima, goed, \
    is goed, oké, oke, natuurlijk, akkoord, doe maar, alsjeblieft, alstublieft";

/// Words that, right after an affirmative, turn it into a refusal or a reservation.
const RETRACTIONS: &str = "no not nein non nee não niet but pero mais aber mas ma maar";

/// Words that, alone or leading a short reply, accept an offer ("yes", "yes please", "sure", "ok", "please do", "sí", "oui", "ja", "sim", "certo", "graag"...), for every Lang.
pub fn is_affirmative(text: &str) -> bool {
    let norm = normalize(text);
    let words: Vec<&str> = norm.split(' ').collect();
    if norm.is_empty() || words.len() > 8 {
        return false;
    }
    AFFIRMATIVES.split(',').any(|phrase| {
        let lead: Vec<&str> = phrase.split_whitespace().collect();
        words.starts_with(&lead)
            && words
                .get(lead.len())
                .is_none_or(|next| !RETRACTIONS.split(' ').any(|r| r == *next))
    })
}

/// Who a visitor may ask for, per language (`<en>=...` lines, substituted into the patterns
/// below), then request patterns, one per line, matched against normalised text.
const HUMAN_PATTERNS: &str = r"
<en>=(?:a |an |the |one of your |some |your )?(?:real |live |actual )?(?:human(?: being)?|person|people|someone|somebody|anyone|agent|representative|rep|operator|staff|employee|manager|supervisor|member of (?:your |the )?(?:team|staff)|customer (?:service|support)|support (?:team|staff|agent)|sales|team)\b
<es>=(?:un |una |algún |alguna |el |la )?(?:persona|humano|ser humano|agente|representante|operador|operadora|asesor|asesora|empleado|empleada|alguien|encargado|responsable|gerente|supervisor|equipo|atención al cliente|soporte)\b
<fr>=(?:un |une |le |la |l |des )?(?:vrai |vraie |véritable )?(?:humain|être humain|personne|agent|conseiller|conseillère|opérateur|opératrice|représentant|représentante|quelqu un|employé|employée|responsable|membre|service client|équipe)\b
<de>=(?:einem |einer |einen |dem |der |den )?(?:echten |richtigen |menschlichen )?(?:mensch|menschen|mitarbeiter|mitarbeiterin|berater|beraterin|person|agenten|kundendienst|kundenservice|support|jemandem|jemand|ansprechpartner|ansprechpartnerin|team|vorgesetzten)\b
<pt>=(?:um |uma |o |a |algum |alguma )?(?:pessoa|humano|ser humano|atendente|agente|representante|operador|operadora|funcionário|funcionária|alguém|gerente|equipe|equipa|suporte)\b
<it>=(?:un |una |uno |il |la |l )?(?:vero |vera )?(?:persona|umano|essere umano|operatore|operatrice|agente|addetto|addetta|rappresentante|qualcuno|consulente|responsabile|team|assistenza)\b
<nl>=(?:een |de |het )?(?:echte |echt )?(?:mens|persoon|medewerker|medewerkster|agent|iemand|vertegenwoordiger|klantenservice|team)\b
\b(?:talk|speak|chat|get in touch)(?: directly)? (?:to|with) <en>
\b(?:connect|transfer|put|pass|escalate) (?:me |this )?(?:through )?(?:to|with) <en>
\b(?:i want|i need|i d like|i would like|can i get|can i have|could i get|give me|get me) (?:a |an |to a )?(?:real |live |actual )?(?:human|person|agent|representative|operator)(?: please| now| instead)?$
\b(?:is there|are there) (?:a |any )?(?:real )?(?:human|person|people|someone|anyone|anybody) (?:i can|to) (?:talk|speak|chat)\b
^(?:a |an )?(?:real |live )?(?:human|person|agent|representative|operator|human agent|customer service)(?: please| pls| now)?$
\b(?:hablar|hable|comunicarme|contactar|chatear|ponerme en contacto|póngame|ponme|pásame|páseme|comuníqueme)(?: directamente)? (?:con|a) <es>
\bquiero (?:un |una )?(?:persona|humano|agente|operador|asesor)\b
\b(?:parler|discuter|échanger)(?: directement)? (?:à|a|avec) <fr>
\bmett\w* en (?:relation|contact) avec <fr>
\bje (?:veux|voudrais|souhaite|souhaiterais) (?:un|une) (?:vrai |vraie )?(?:humain|conseiller|conseillère|agent|opérateur|opératrice)\b
\bmit <de>(?: \w+){0,3} (?:sprechen|reden|verbinden|verbunden|chatten|telefonieren|schreiben)\b
\b(?:sprechen|reden|verbinden|chatten)(?: sie mich| mich)? mit <de>
\b(?:einen|eine) (?:echten |richtigen )?(?:menschen|mitarbeiter|mitarbeiterin|berater|beraterin|ansprechpartner) (?:sprechen|erreichen)\b
\b(?:falar|conversar|contatar|contactar|fale|transferir|transfira)(?: diretamente)? (?:com|para|a) <pt>
\batendimento humano\b
\b(?:parlare|parlo|chattare|comunicare|in contatto|passarmi|passami|mi passi) (?:direttamente )?(?:con |a )?<it>
\b(?:spreken|praten|chatten|verbinden|contact opnemen) met <nl>
\bmet <nl>(?: \w+){0,2} (?:spreken|praten|chatten|verbonden|verbinden)\b
\been (?:echte )?(?:medewerker|mens|persoon) (?:te )?spreken\b
";

static HUMAN_REQUEST: LazyLock<RegexSet> = LazyLock::new(|| {
    let (groups, patterns): (Vec<&str>, Vec<&str>) = HUMAN_PATTERNS
        .lines()
        .filter(|l| !l.is_empty())
        .partition(|l| l.starts_with('<'));
    let groups: Vec<(&str, &str)> = groups.iter().filter_map(|g| g.split_once('=')).collect();
    let patterns = patterns.iter().map(|p| {
        groups
            .iter()
            .fold(p.to_string(), |p, (key, group)| p.replace(key, group))
    });
    RegexSet::new(patterns).expect("human-request patterns compile")
});

/// True when the visitor explicitly asks for a person ("can I talk to a human", "speak to an agent/representative/someone", "hablar con una persona", "parler à un humain", "mit einem Mitarbeiter sprechen", ...), not merely mentioning "agent" or "person".
pub fn asks_for_human(text: &str) -> bool {
    HUMAN_REQUEST.is_match(&normalize(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_setting_accepts_codes_tags_and_names() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_setting(lang.code()), Some(lang));
            assert_eq!(Lang::from_setting(lang.name()), Some(lang));
        }
        assert_eq!(Lang::from_setting("pt-BR"), Some(Lang::Pt));
        assert_eq!(Lang::from_setting("fr-ca"), Some(Lang::Fr));
        assert_eq!(Lang::from_setting(" EN_us "), Some(Lang::En));
        assert_eq!(Lang::from_setting("français"), Some(Lang::Fr));
        assert_eq!(Lang::from_setting("Deutsch"), Some(Lang::De));
        assert_eq!(Lang::from_setting("Español"), Some(Lang::Es));
        assert_eq!(Lang::from_setting("Nederlands"), Some(Lang::Nl));
        assert_eq!(Lang::from_setting("ja"), None);
        assert_eq!(Lang::from_setting("Klingon"), None);
        assert_eq!(Lang::from_setting(""), None);
    }

    #[test]
    fn detects_typical_support_questions() {
        let cases = [
            ("¿Cuál es su política de devoluciones?", Lang::Es),
            ("Wie kann ich mein Passwort ändern?", Lang::De),
            ("Quels sont vos horaires ?", Lang::Fr),
            ("How do I reset my password?", Lang::En),
            ("Qual é o prazo de entrega?", Lang::Pt),
            ("Come posso restituire un prodotto?", Lang::It),
            ("Hoe kan ik mijn bestelling annuleren?", Lang::Nl),
            ("Est-ce que je peux payer par carte ?", Lang::Fr),
            ("Ik wil mijn wachtwoord wijzigen", Lang::Nl),
            ("Não consigo acessar minha conta", Lang::Pt),
            ("Quanto custa o frete?", Lang::Pt),
            ("Wo ist meine Bestellung?", Lang::De),
        ];
        for (text, lang) in cases {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
    }

    #[test]
    fn detect_gives_up_on_short_or_ambiguous_text() {
        for text in ["ok", "Rust?", "SKU-1234", "", "ja", "no", "👍"] {
            assert_eq!(detect(text), None, "{text}");
        }
    }

    #[test]
    fn templates_are_filled_in_for_every_language() {
        for lang in Lang::ALL {
            let t = templates(lang);
            for text in [
                t.no_information,
                t.handoff_confirmed,
                t.handoff_pending,
                t.found_intro,
                t.also,
            ] {
                assert!(!text.trim().is_empty(), "{lang:?}");
            }
            assert!(t.handoff_offer.ends_with('?'), "{lang:?}");
        }
        assert_eq!(templates(Lang::De).also, "Außerdem:");
    }

    #[test]
    fn recognises_affirmative_replies() {
        let yes = "yes|Yes please!|sure|OK|please do|Sí, por favor|oui|Oui, merci|ja gerne|sim|\
            certo|graag|Of course.|d'accord|Sì|yes, that would be great";
        for text in yes.split('|') {
            assert!(is_affirmative(text), "{text}");
        }
    }

    #[test]
    fn rejects_refusals_and_questions_as_affirmative() {
        let no = "no|no thanks|not really|ok no thanks|yes but not now|nein danke|\
            How do I reset my password?||\
            yes I have a question about the invoice I got last month";
        for text in no.split('|') {
            assert!(!is_affirmative(text), "{text}");
        }
    }

    #[test]
    fn recognises_requests_for_a_person() {
        let asks = "Can I talk to a human?|I want to speak to an agent|\
            Please let me speak with a representative|can i speak to someone|\
            Connect me to a real person please|human please|Quiero hablar con una persona|\
            Je voudrais parler à un humain|Ich möchte mit einem Mitarbeiter sprechen|\
            Posso falar com um atendente?|Vorrei parlare con un operatore|\
            Kan ik met een medewerker spreken?|is there someone I can talk to?|\
            Puis-je parler à quelqu'un ?|Talk to sales";
        for text in asks.split('|') {
            assert!(asks_for_human(text), "{text}");
        }
    }

    #[test]
    fn ignores_other_senses_of_agent_and_person() {
        let not_asks = "What is a user agent string?|How many persons fit in the room?|\
            How do I connect my agent to Slack?|Can the widget talk to our API?|\
            Is there a per-person price?|Wie viele Personen passen in den Raum?|\
            Does the agent speak Spanish?|How do I add an agent to my team?";
        for text in not_asks.split('|') {
            assert!(!asks_for_human(text), "{text}");
        }
    }
}

//! The agent's personality: its tone for the LLM and the phrases around extractive answers.

use super::language::Lang;

/// The agent's tone, as stored on the agent.
pub use otoq_entities::enums::Personality;

/// Phrase variants indexed by personality, then by language (in `Lang::ALL` order).
type Table = [[&'static [&'static str]; 7]; 4];

const OPENINGS: Table = [
    [
        &["Certainly.", "Of course."],
        &["Por supuesto.", "Desde luego."],
        &["Bien sûr.", "Certainement."],
        &["Gern.", "Selbstverständlich."],
        &["Claro.", "Com certeza."],
        &["Certamente.", "Senz'altro."],
        &["Zeker.", "Natuurlijk."],
    ],
    [
        &["Happy to help!", "Great question!", "Glad you asked!"],
        &[
            "¡Con mucho gusto!",
            "¡Buena pregunta!",
            "¡Será un placer ayudarle!",
        ],
        &[
            "Avec plaisir\u{a0}!",
            "Bonne question\u{a0}!",
            "Volontiers\u{a0}!",
        ],
        &["Gerne helfe ich Ihnen!", "Gute Frage!", "Sehr gern!"],
        &["Com prazer!", "Ótima pergunta!", "Fico feliz em ajudar!"],
        &["Con piacere!", "Ottima domanda!", "Felice di aiutarla!"],
        &["Daar help ik u graag mee!", "Goede vraag!", "Met plezier!"],
    ],
    [
        &["Sure thing!", "Got it!", "No problem!"],
        &["¡Claro!", "¡Sin problema!", "¡Vale!"],
        &["Pas de souci\u{a0}!", "Bien sûr\u{a0}!", "Ça marche\u{a0}!"],
        &["Klar!", "Kein Problem!", "Alles klar!"],
        &["Claro!", "Sem problemas!", "Beleza!"],
        &["Certo!", "Nessun problema!", "Ok!"],
        &["Tuurlijk!", "Geen probleem!", "Komt goed!"],
    ],
    [
        &[
            "Thank you for your question.",
            "Thank you for contacting us.",
        ],
        &["Gracias por su pregunta.", "Le agradecemos su consulta."],
        &[
            "Je vous remercie de votre question.",
            "Merci de nous avoir contactés.",
        ],
        &[
            "Vielen Dank für Ihre Frage.",
            "Vielen Dank für Ihre Anfrage.",
        ],
        &["Agradecemos a sua pergunta.", "Obrigado pelo seu contato."],
        &[
            "La ringrazio per la sua domanda.",
            "Grazie per averci contattato.",
        ],
        &["Dank u voor uw vraag.", "Hartelijk dank voor uw bericht."],
    ],
];

const CLOSINGS: Table = [
    [
        &[
            "Let me know if you have other questions.",
            "I hope this helps. Let me know if you need anything else.",
        ],
        &[
            "Si tiene otras preguntas, no dude en consultarme.",
            "Espero que le sea útil. Dígame si necesita algo más.",
        ],
        &[
            "N'hésitez pas si vous avez d'autres questions.",
            "J'espère que cela vous aide. Dites-moi si vous avez besoin d'autre chose.",
        ],
        &[
            "Melden Sie sich gern, wenn Sie weitere Fragen haben.",
            "Ich hoffe, das hilft. Sagen Sie mir Bescheid, wenn Sie noch etwas brauchen.",
        ],
        &[
            "Se tiver outras perguntas, é só me avisar.",
            "Espero ter ajudado. Avise-me se precisar de mais alguma coisa.",
        ],
        &[
            "Mi faccia sapere se ha altre domande.",
            "Spero che questo le sia utile. Mi faccia sapere se ha bisogno d'altro.",
        ],
        &[
            "Laat het me weten als u nog andere vragen heeft.",
            "Ik hoop dat dit helpt. Laat het me weten als u nog iets nodig heeft.",
        ],
    ],
    [
        &[
            "Anything else I can help with? 😊",
            "Hope that helps! Let me know if there's anything else. 😊",
        ],
        &[
            "¿Hay algo más en lo que pueda ayudarle? 😊",
            "¡Espero que esto le ayude! Si necesita algo más, aquí estoy. 😊",
        ],
        &[
            "Puis-je vous aider pour autre chose\u{a0}? 😊",
            "J'espère que cela vous aide\u{a0}! N'hésitez pas si besoin. 😊",
        ],
        &[
            "Kann ich Ihnen sonst noch helfen? 😊",
            "Ich hoffe, das hilft! Melden Sie sich jederzeit gern. 😊",
        ],
        &[
            "Posso ajudar em mais alguma coisa? 😊",
            "Espero que isso ajude! Qualquer coisa, é só chamar. 😊",
        ],
        &[
            "Posso aiutarla in qualcos'altro? 😊",
            "Spero che questo aiuti! Sono qui se le serve altro. 😊",
        ],
        &[
            "Kan ik u nog ergens anders mee helpen? 😊",
            "Ik hoop dat dit helpt! Laat het gerust weten als u nog iets nodig heeft. 😊",
        ],
    ],
    [
        &["Anything else?", "Need anything else?"],
        &["¿Algo más?", "¿Necesitas algo más?"],
        &["Autre chose\u{a0}?", "Besoin d'autre chose\u{a0}?"],
        &["Sonst noch was?", "Noch etwas?"],
        &["Mais alguma coisa?", "Precisa de mais algo?"],
        &["Altro?", "Serve altro?"],
        &["Nog iets?", "Verder nog iets?"],
    ],
    [
        &[
            "Please let me know if I may assist you further.",
            "Should you have any further questions, please do not hesitate to ask.",
        ],
        &[
            "Quedo a su disposición para cualquier otra consulta.",
            "Si necesita cualquier otra aclaración, no dude en indicármelo.",
        ],
        &[
            "Je reste à votre disposition pour toute autre question.",
            "N'hésitez pas à me faire part de toute autre demande.",
        ],
        &[
            "Bitte lassen Sie mich wissen, ob ich Ihnen weiter behilflich sein kann.",
            "Für weitere Fragen stehe ich Ihnen gerne zur Verfügung.",
        ],
        &[
            "Fico à disposição para qualquer outra dúvida.",
            "Caso tenha outras perguntas, não hesite em entrar em contato.",
        ],
        &[
            "Resto a sua disposizione per qualsiasi ulteriore chiarimento.",
            "Non esiti a contattarmi per qualsiasi altra domanda.",
        ],
        &[
            "Laat u het mij gerust weten als ik u verder van dienst kan zijn.",
            "Mocht u nog vragen hebben, aarzel dan niet om contact op te nemen.",
        ],
    ],
];

/// What a personality sounds like: the LLM's tone instruction and the extractive answer's phrases.
pub trait Voice {
    /// One or two English sentences for an LLM system prompt describing the tone.
    fn style_instruction(self) -> &'static str;
    /// A short opening phrase for an extractive answer in `lang`; `seed % n` picks among the variants.
    fn opening(self, lang: Lang, seed: u64) -> &'static str;
    /// A short closing phrase for an extractive answer in `lang`; `seed % n` picks among the variants.
    fn closing(self, lang: Lang, seed: u64) -> &'static str;
}

impl Voice for Personality {
    fn style_instruction(self) -> &'static str {
        match self {
            Personality::Professional => {
                "Be clear, concise and courteous; use a neutral, businesslike tone without slang \
                 or emoji."
            }
            Personality::Friendly => {
                "Be warm and upbeat; use a conversational tone and the occasional exclamation \
                 mark, but stay accurate."
            }
            Personality::Casual => {
                "Be relaxed and brief, as if chatting with a friend; everyday words and \
                 contractions are fine, but stay accurate and respectful."
            }
            Personality::Formal => {
                "Be polite and formal; use complete sentences and the formal form of address \
                 where the language has one, with no slang, contractions or emoji."
            }
        }
    }

    fn opening(self, lang: Lang, seed: u64) -> &'static str {
        pick(&OPENINGS, self, lang, seed)
    }

    fn closing(self, lang: Lang, seed: u64) -> &'static str {
        pick(&CLOSINGS, self, lang, seed)
    }
}

fn pick(table: &Table, personality: Personality, lang: Lang, seed: u64) -> &'static str {
    let variants = table[personality as usize][lang as usize];
    variants[(seed % variants.len() as u64) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_has_two_or_three_distinct_nonempty_variants() {
        for table in [&OPENINGS, &CLOSINGS] {
            for row in table {
                for variants in row {
                    assert!((2..=3).contains(&variants.len()), "{variants:?}");
                    assert!(variants.iter().all(|v| !v.trim().is_empty()));
                    for (i, v) in variants.iter().enumerate() {
                        assert!(!variants[i + 1..].contains(v), "{v}");
                    }
                }
            }
        }
    }

    #[test]
    fn seed_picks_variants_deterministically_and_cycles() {
        let p = Personality::Friendly;
        assert_eq!(p.opening(Lang::En, 0), "Happy to help!");
        assert_eq!(p.opening(Lang::En, 1), "Great question!");
        assert_eq!(p.opening(Lang::En, 3), p.opening(Lang::En, 0));
        assert_eq!(p.opening(Lang::En, u64::MAX), p.opening(Lang::En, u64::MAX));
        assert_ne!(p.closing(Lang::De, 0), p.closing(Lang::De, 1));
        assert_eq!(p.closing(Lang::De, 2), p.closing(Lang::De, 0));
    }

    #[test]
    fn phrases_match_tone_and_language() {
        assert_eq!(
            Personality::Formal.opening(Lang::En, 0),
            "Thank you for your question."
        );
        assert_eq!(Personality::Casual.opening(Lang::En, 0), "Sure thing!");
        assert_eq!(Personality::Casual.closing(Lang::En, 0), "Anything else?");
        assert!(Personality::Friendly.closing(Lang::En, 0).contains('😊'));
        assert!(
            Personality::Formal
                .closing(Lang::Fr, 0)
                .contains("disposition")
        );
        assert!(
            Personality::Professional
                .closing(Lang::Es, 1)
                .contains("útil")
        );
        assert!(
            Personality::Casual
                .opening(Lang::Nl, 1)
                .contains("probleem")
        );
        for p in Personality::ALL {
            assert!(!p.style_instruction().is_empty());
            for lang in Lang::ALL {
                assert_ne!(p.opening(lang, 0), p.closing(lang, 0));
            }
        }
        assert!(Personality::Friendly.style_instruction().contains("warm"));
    }
}

//! The widget's interface texts, built in for a few locales and overridable from config, and
//! the language tags that pick them.

use crate::config::ConfigError;
use crate::prelude::*;
use crate::value::{before_any, split_once_ascii, Object, Value};

/// The locales with built-in texts and a built-in BANT preset, in the order `auto` considers
/// them (the first is the fallback).
pub const BUILTIN_LOCALES: [&str; 4] = ["en", "de", "fr", "es"];

/// The language of a tag, its first part: `de` for `de-AT` or `de_AT`.
pub(crate) fn language(tag: &str) -> &str {
    before_any(tag, b"-_")
}

/// The index in [`BUILTIN_LOCALES`] of a tag's language, if it is built in.
pub(crate) fn builtin_index(tag: &str) -> Option<usize> {
    let lang = language(tag);
    BUILTIN_LOCALES
        .iter()
        .position(|l| l.eq_ignore_ascii_case(lang))
}

/// Whether two tags are the same, ignoring case and `-` versus `_`.
pub(crate) fn same_tag(a: &str, b: &str) -> bool {
    let dash = |c: char| {
        if c == '_' {
            '-'
        } else {
            c.to_ascii_lowercase()
        }
    };
    a.len() == b.len() && a.chars().map(dash).eq(b.chars().map(dash))
}

/// The first of `candidates` that one of the page's `preferred` tags asks for, trying each
/// preferred tag in turn: the same tag, else its language, else another tag of its language
/// (`de-AT` takes `de`, `pt-PT` takes `pt-BR`). Without a match, the first candidate.
pub(crate) fn resolve<'a>(candidates: &'a [String], preferred: &[&str]) -> &'a str {
    for tag in preferred {
        let lang = language(tag);
        let found = candidates
            .iter()
            .find(|c| same_tag(c, tag))
            .or_else(|| candidates.iter().find(|c| same_tag(c, lang)))
            .or_else(|| {
                candidates
                    .iter()
                    .find(|c| !lang.is_empty() && same_tag(language(c), lang))
            });
        if let Some(found) = found {
            return found;
        }
    }
    candidates.first().map_or("en", String::as_str)
}

/// Ends each text in a row of `BUILTIN` (the ASCII unit separator, which no text contains).
const END: char = '\u{1f}';

/// Declares the text fields once: the resolved [`Texts`], the all-optional config overrides,
/// and the built-in translations (en, de, fr, es, as rows of one table).
macro_rules! texts {
    ($($field:ident $key:literal: $en:literal, $de:literal, $fr:literal, $es:literal;)*) => {
        /// Every text the widget shows that is not a question, resolved for one locale.
        ///
        /// `{min}`, `{max}`, `{current}`, `{total}`, `{question}` and `{grade}` are replaced
        /// where noted.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Texts {
            $(
                #[doc = concat!("Default (en): \"", $en, "\".")]
                pub $field: String,
            )*
        }

        /// Overrides for [`Texts`] from config: any field may be left out.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct TextsConfig {
            $(
                #[doc = concat!("Overrides `", $key, "`.")]
                pub $field: Option<String>,
            )*
        }

        /// The config keys, in field order.
        const KEYS: [&str; [$($key),*].len()] = [$($key),*];

        /// The built-in texts, one row per locale of [`BUILTIN_LOCALES`]: the texts in field
        /// order, each ended by [`END`]. (One string per locale rather than an array of
        /// strings saves the widget a pointer and a length per text.)
        const BUILTIN: [&str; 4] = [
            concat!($($en, '\u{1f}'),*),
            concat!($($de, '\u{1f}'),*),
            concat!($($fr, '\u{1f}'),*),
            concat!($($es, '\u{1f}'),*),
        ];

        // Field by field code is written once, as loops over these arrays: the widget ships
        // every byte, and a read or copy per field would be one per text.
        impl TextsConfig {
            fn slots(&mut self) -> [&mut Option<String>; KEYS.len()] {
                [$(&mut self.$field),*]
            }

            fn fields(&self) -> [&Option<String>; KEYS.len()] {
                [$(&self.$field),*]
            }
        }

        impl Texts {
            pub(crate) fn slots(&mut self) -> [&mut String; KEYS.len()] {
                [$(&mut self.$field),*]
            }

            pub(crate) fn fields(&self) -> [&String; KEYS.len()] {
                [$(&self.$field),*]
            }

            pub(crate) fn empty() -> Texts {
                Texts { $($field: String::new(),)* }
            }
        }
    };
}

impl TextsConfig {
    /// Reads overrides from a config value.
    pub(crate) fn from_value(path: &str, value: Value) -> Result<TextsConfig, ConfigError> {
        let mut o = Object::new(value, path, &KEYS)?;
        let mut config = TextsConfig::default();
        for (key, slot) in KEYS.iter().zip(config.slots()) {
            *slot = o.string(key)?;
        }
        Ok(config)
    }
}

impl Texts {
    /// One row of `BUILTIN` as texts.
    fn from_row(row: &str) -> Texts {
        let mut texts = Texts::empty();
        for (slot, text) in texts.slots().into_iter().zip(row.split(END)) {
            text.clone_into(slot);
        }
        texts
    }

    /// Applies config overrides.
    pub(crate) fn apply(&mut self, overrides: &TextsConfig) {
        for (slot, text) in self.slots().into_iter().zip(overrides.fields()) {
            if let Some(text) = text {
                slot.clone_from(text);
            }
        }
    }

    /// The built-in texts for a locale (by its language: `de-AT` gets `de`), or `None` if it is
    /// not built in.
    pub fn builtin(locale: &str) -> Option<Texts> {
        builtin_index(locale).map(|i| Texts::from_row(BUILTIN[i]))
    }

    /// The built-in texts for a locale, falling back to English.
    pub(crate) fn for_locale(locale: &str) -> Texts {
        Texts::from_row(BUILTIN[builtin_index(locale).unwrap_or(0)])
    }
}

texts! {
    form_label "formLabel": "Tell us about your needs", "Erzählen Sie uns von Ihrem Bedarf",
        "Parlez-nous de vos besoins", "Cuéntenos qué necesita";
    next "next": "Next", "Weiter", "Suivant", "Siguiente";
    back "back": "Back", "Zurück", "Retour", "Atrás";
    submit "submit": "Send", "Absenden", "Envoyer", "Enviar";
    progress "progress": "Step {current} of {total}", "Schritt {current} von {total}",
        "Étape {current} sur {total}", "Paso {current} de {total}";
    required_mark "requiredMark": "(required)", "(Pflichtfeld)", "(obligatoire)", "(obligatorio)";
    yes "yes": "Yes", "Ja", "Oui", "Sí";
    no "no": "No", "Nein", "Non", "No";
    error_required "errorRequired": "Please answer this question.",
        "Bitte beantworten Sie diese Frage.", "Veuillez répondre à cette question.",
        "Por favor, responda a esta pregunta.";
    error_choose "errorChoose": "Please choose an option.", "Bitte wählen Sie eine Option.",
        "Veuillez choisir une option.", "Por favor, elija una opción.";
    error_email "errorEmail": "Please enter a valid email address, like name@company.com.",
        "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@firma.de.",
        "Veuillez saisir une adresse e-mail valide, par exemple nom@entreprise.fr.",
        "Por favor, indique un correo electrónico válido, por ejemplo nombre@empresa.com.";
    error_phone "errorPhone": "Please enter a valid phone number, like +1 555 123 4567.",
        "Bitte geben Sie eine gültige Telefonnummer ein, z. B. +49 30 1234567.",
        "Veuillez saisir un numéro de téléphone valide, par exemple +33 1 23 45 67 89.",
        "Por favor, indique un número de teléfono válido, por ejemplo +34 912 345 678.";
    error_number "errorNumber": "Please enter a number.", "Bitte geben Sie eine Zahl ein.",
        "Veuillez saisir un nombre.", "Por favor, indique un número.";
    error_range "errorRange": "Please enter a number from {min} to {max}.",
        "Bitte geben Sie eine Zahl von {min} bis {max} ein.",
        "Veuillez saisir un nombre entre {min} et {max}.",
        "Por favor, indique un número entre {min} y {max}.";
    error_too_long "errorTooLong": "Please use at most {max} characters.",
        "Bitte verwenden Sie höchstens {max} Zeichen.",
        "Veuillez utiliser au maximum {max} caractères.",
        "Por favor, utilice como máximo {max} caracteres.";
    error_consent "errorConsent": "Please agree so that we can contact you.",
        "Bitte stimmen Sie zu, damit wir Sie kontaktieren können.",
        "Veuillez donner votre accord afin que nous puissions vous contacter.",
        "Por favor, dé su consentimiento para que podamos contactarle.";
    error_summary "errorSummary": "Please correct the highlighted answers.",
        "Bitte korrigieren Sie die markierten Antworten.",
        "Veuillez corriger les réponses signalées.",
        "Por favor, corrija las respuestas marcadas.";
    sending "sending": "Sending…", "Wird gesendet…", "Envoi en cours…", "Enviando…";
    thank_you_title "thankYouTitle": "Thank you!", "Vielen Dank!", "Merci\u{a0}!", "¡Gracias!";
    thank_you_body "thankYouBody": "We have received your details and will be in touch soon.",
        "Wir haben Ihre Angaben erhalten und melden uns in Kürze.",
        "Nous avons bien reçu vos informations et reviendrons vers vous très prochainement.",
        "Hemos recibido sus datos y nos pondremos en contacto con usted en breve.";
    not_you "notYou": "Not you? Start over", "Nicht Sie? Neu beginnen",
        "Ce n’est pas vous\u{a0}? Recommencer", "¿No es usted? Empezar de nuevo";
    welcome_back "welcomeBack": "Welcome back! Send your request with the details you gave us before.",
        "Willkommen zurück! Senden Sie Ihre Anfrage mit den Angaben Ihres letzten Besuchs.",
        "Ravis de vous revoir\u{a0}! Envoyez votre demande avec les informations que vous nous avez déjà données.",
        "¡Hola de nuevo! Envíe su solicitud con los datos que nos facilitó la última vez.";
    submit_failed "submitFailed": "We could not send your details. Please try again.",
        "Ihre Angaben konnten nicht gesendet werden. Bitte versuchen Sie es erneut.",
        "Nous n’avons pas pu envoyer vos informations. Veuillez réessayer.",
        "No hemos podido enviar sus datos. Por favor, inténtelo de nuevo.";
    reason_not_answered "reasonNotAnswered": "{question}: not answered",
        "{question}: nicht beantwortet", "{question}: sans réponse", "{question}: sin respuesta";
    reason_capped "reasonCapped": "(grade at most {grade})", "(höchstens {grade})",
        "(au mieux {grade})", "(como máximo {grade})";
    grade_hot "gradeHot": "Hot", "Heiß", "Chaud", "Caliente";
    grade_warm "gradeWarm": "Warm", "Warm", "Tiède", "Tibio";
    grade_cold "gradeCold": "Cold", "Kalt", "Froid", "Frío";
}

/// Fills `{name}` placeholders of an interface text, such as `Step {current} of {total}`;
/// a placeholder without a value stays as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = split_once_ascii(rest, b'{') {
        out.push_str(before);
        let filled = split_once_ascii(after, b'}').and_then(|(name, tail)| {
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, tail))
        });
        match filled {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_by_name() {
        let values = [("current", "2"), ("total", "3")];
        for (template, want) in [
            ("Step {current} of {total}", "Step 2 of 3"),
            ("{total}{current}", "32"),
            ("no placeholders", "no placeholders"),
            ("{unknown} {current}", "{unknown} 2"),
            ("unclosed {current", "unclosed {current"),
            ("{{current}}", "{2}"),
            ("", ""),
        ] {
            assert_eq!(fill(template, &values), want, "{template}");
        }
    }

    #[test]
    fn locales_resolve_by_language() {
        for (locale, want) in [
            ("de-AT", Some("Weiter")),
            ("en_GB", Some("Next")),
            ("FR-ca", Some("Suivant")),
            ("es-419", Some("Siguiente")),
            ("xx", None),
            ("", None),
        ] {
            assert_eq!(
                Texts::builtin(locale).map(|t| t.next).as_deref(),
                want,
                "{locale}"
            );
        }
        assert_eq!(Texts::for_locale("ar").next, "Next");
    }

    #[test]
    fn preferred_tags_pick_a_candidate() {
        let candidates: Vec<String> = ["en", "de", "fr", "es", "pt-BR", "it"]
            .map(String::from)
            .to_vec();
        for (preferred, want) in [
            (&[][..], "en"),
            (&["de-AT"][..], "de"),
            (&["pt-BR", "fr"][..], "pt-BR"),
            (&["pt-PT", "fr"][..], "pt-BR"),
            (&["nl", "fr-CH"][..], "fr"),
            (&["IT_it"][..], "it"),
            (&["zh", "", "*"][..], "en"),
        ] {
            assert_eq!(resolve(&candidates, preferred), want, "{preferred:?}");
        }
        assert!(same_tag("pt_br", "PT-BR") && !same_tag("pt", "pt-BR"));
    }

    /// The placeholders of a text, such as `["{min}", "{max}"]`.
    fn placeholders(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut current: Option<String> = None;
        for c in text.chars() {
            match (c, &mut current) {
                ('{', _) => current = Some("{".into()),
                ('}', Some(p)) => {
                    p.push('}');
                    found.extend(current.take());
                }
                (c, Some(p)) => p.push(c),
                _ => {}
            }
        }
        found.sort();
        found
    }

    #[test]
    fn every_builtin_text_is_translated_with_its_placeholders() {
        // Identical by nature: the same word in both languages.
        let same = [("de", "Warm"), ("es", "No")];
        let rows = BUILTIN.map(|row| {
            row.strip_suffix(END)
                .unwrap()
                .split(END)
                .collect::<Vec<_>>()
        });
        for row in &rows {
            assert_eq!(row.len(), KEYS.len(), "{row:?}");
        }
        for (row, locale) in rows.iter().zip(BUILTIN_LOCALES).skip(1) {
            for (text, en) in row.iter().zip(&rows[0]) {
                assert!(
                    text != en || same.contains(&(locale, *en)),
                    "{locale}: \"{en}\" is not translated"
                );
                assert_eq!(placeholders(text), placeholders(en), "{locale}: {text}");
                assert!(!text.trim().is_empty());
            }
        }
    }

    #[test]
    fn overrides_replace_only_given_fields() {
        let mut texts = Texts::builtin("en").unwrap();
        texts.apply(&TextsConfig {
            submit: Some("Get my quote".into()),
            ..TextsConfig::default()
        });
        assert_eq!(texts.submit, "Get my quote");
        assert_eq!(texts.next, "Next");
    }
}

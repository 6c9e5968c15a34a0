//! The widget's interface texts, built in for a few locales and overridable from config.

use crate::config::ConfigError;
use crate::value::{Object, Value};

/// Declares the text fields once: the resolved [`Texts`], the all-optional config overrides,
/// and the built-in translations.
macro_rules! texts {
    ($($field:ident $key:literal: $en:literal, $de:literal;)*) => {
        /// Every text the widget shows that is not a question, resolved for one locale.
        ///
        /// `{min}`, `{max}`, `{current}` and `{total}` are replaced where noted.
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

        impl TextsConfig {
            /// Reads overrides from a config value.
            pub(crate) fn from_value(path: &str, value: Value) -> Result<TextsConfig, ConfigError> {
                let mut o = Object::new(value, path, &[$($key),*])?;
                Ok(TextsConfig { $($field: o.string($key)?,)* })
            }
        }

        impl Texts {
            /// The built-in texts for a locale, or `None` if it is not built in.
            pub fn builtin(locale: &str) -> Option<Texts> {
                let lang = locale.split(['-', '_']).next().unwrap_or(locale);
                match lang {
                    "en" => Some(Texts { $($field: $en.to_owned(),)* }),
                    "de" => Some(Texts { $($field: $de.to_owned(),)* }),
                    _ => None,
                }
            }

            /// Applies config overrides.
            pub(crate) fn apply(&mut self, overrides: TextsConfig) {
                $(
                    if let Some(text) = overrides.$field {
                        self.$field = text;
                    }
                )*
            }
        }
    };
}

texts! {
    form_label "formLabel": "Tell us about your needs", "Erzählen Sie uns von Ihrem Bedarf";
    next "next": "Next", "Weiter";
    back "back": "Back", "Zurück";
    submit "submit": "Send", "Absenden";
    progress "progress": "Step {current} of {total}", "Schritt {current} von {total}";
    required_mark "requiredMark": "(required)", "(Pflichtfeld)";
    yes "yes": "Yes", "Ja";
    no "no": "No", "Nein";
    error_required "errorRequired": "Please answer this question.", "Bitte beantworten Sie diese Frage.";
    error_choose "errorChoose": "Please choose an option.", "Bitte wählen Sie eine Option.";
    error_email "errorEmail": "Please enter a valid email address, like name@company.com.", "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@firma.de.";
    error_phone "errorPhone": "Please enter a valid phone number, like +1 555 123 4567.", "Bitte geben Sie eine gültige Telefonnummer ein, z. B. +49 30 1234567.";
    error_number "errorNumber": "Please enter a number.", "Bitte geben Sie eine Zahl ein.";
    error_range "errorRange": "Please enter a number from {min} to {max}.", "Bitte geben Sie eine Zahl von {min} bis {max} ein.";
    error_too_long "errorTooLong": "Please use at most {max} characters.", "Bitte verwenden Sie höchstens {max} Zeichen.";
    error_consent "errorConsent": "Please agree so that we can contact you.", "Bitte stimmen Sie zu, damit wir Sie kontaktieren können.";
    error_summary "errorSummary": "Please correct the highlighted answers.", "Bitte korrigieren Sie die markierten Antworten.";
    sending "sending": "Sending…", "Wird gesendet…";
    thank_you_title "thankYouTitle": "Thank you!", "Vielen Dank!";
    thank_you_body "thankYouBody": "We have received your details and will be in touch soon.", "Wir haben Ihre Angaben erhalten und melden uns in Kürze.";
    not_you "notYou": "Not you? Start over", "Nicht Sie? Neu beginnen";
    welcome_back "welcomeBack": "Welcome back! Send your request with the details you gave us before.", "Willkommen zurück! Senden Sie Ihre Anfrage mit den Angaben Ihres letzten Besuchs.";
    submit_failed "submitFailed": "We could not send your details. Please try again.", "Ihre Angaben konnten nicht gesendet werden. Bitte versuchen Sie es erneut.";
}

/// Fills `{name}` placeholders of an interface text, such as `Step {current} of {total}`;
/// a placeholder without a value stays as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let filled = after.split_once('}').and_then(|(name, tail)| {
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
        assert_eq!(
            Texts::builtin("de-AT").map(|t| t.next),
            Some("Weiter".into())
        );
        assert_eq!(Texts::builtin("en_GB").map(|t| t.next), Some("Next".into()));
        assert!(Texts::builtin("xx").is_none());
    }

    #[test]
    fn overrides_replace_only_given_fields() {
        let mut texts = Texts::builtin("en").unwrap();
        texts.apply(TextsConfig {
            submit: Some("Get my quote".into()),
            ..TextsConfig::default()
        });
        assert_eq!(texts.submit, "Get my quote");
        assert_eq!(texts.next, "Next");
    }
}

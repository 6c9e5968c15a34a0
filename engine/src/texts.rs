//! The widget's interface texts, built in for a few locales and overridable from config.

use serde::Deserialize;

/// Declares the text fields once: the resolved [`Texts`], the all-optional config overrides,
/// and the built-in translations.
macro_rules! texts {
    ($($field:ident: $en:literal, $de:literal;)*) => {
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
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct TextsConfig {
            $(
                #[doc = concat!("Overrides `", stringify!($field), "`.")]
                pub $field: Option<String>,
            )*
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
    form_label: "Tell us about your needs", "Erzählen Sie uns von Ihrem Bedarf";
    next: "Next", "Weiter";
    back: "Back", "Zurück";
    submit: "Send", "Absenden";
    progress: "Step {current} of {total}", "Schritt {current} von {total}";
    required_mark: "(required)", "(Pflichtfeld)";
    yes: "Yes", "Ja";
    no: "No", "Nein";
    error_required: "Please answer this question.", "Bitte beantworten Sie diese Frage.";
    error_choose: "Please choose an option.", "Bitte wählen Sie eine Option.";
    error_email: "Please enter a valid email address, like name@company.com.", "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@firma.de.";
    error_phone: "Please enter a valid phone number, like +1 555 123 4567.", "Bitte geben Sie eine gültige Telefonnummer ein, z. B. +49 30 1234567.";
    error_number: "Please enter a number.", "Bitte geben Sie eine Zahl ein.";
    error_range: "Please enter a number from {min} to {max}.", "Bitte geben Sie eine Zahl von {min} bis {max} ein.";
    error_too_long: "Please use at most {max} characters.", "Bitte verwenden Sie höchstens {max} Zeichen.";
    error_consent: "Please agree so that we can contact you.", "Bitte stimmen Sie zu, damit wir Sie kontaktieren können.";
    error_summary: "Please correct the highlighted answers.", "Bitte korrigieren Sie die markierten Antworten.";
    sending: "Sending…", "Wird gesendet…";
    thank_you_title: "Thank you!", "Vielen Dank!";
    thank_you_body: "We have received your details and will be in touch soon.", "Wir haben Ihre Angaben erhalten und melden uns in Kürze.";
    submit_failed: "We could not send your details. Please try again.", "Ihre Angaben konnten nicht gesendet werden. Bitte versuchen Sie es erneut.";
}

#[cfg(test)]
mod tests {
    use super::*;

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

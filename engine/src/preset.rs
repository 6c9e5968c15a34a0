//! The `bant` preset: a ready B2B qualification form that config can override piece by piece,
//! with its texts in every built-in locale.
//!
//! The structure (ids, kinds, categories, priorities, points, disqualifiers) is written once, in
//! [`bant`]; each locale only brings its words ([`WORDS`]), which [`bant`] takes in order, so
//! the languages cannot drift apart in scoring.

use crate::config::{KindName, OptionConfig, QuestionConfig, RangeConfig};
use crate::form::Category;
use crate::prelude::*;
use crate::texts::builtin_index;

/// Ends each text in a row of [`WORDS`] (the ASCII unit separator, which no text contains).
const END: char = '\u{1f}';

/// Joins texts into one row of [`WORDS`], each ended by [`END`]. One string per locale rather
/// than an array of strings saves the widget a pointer and a length per text.
macro_rules! words {
    ($($text:literal,)*) => {
        concat!($($text, '\u{1f}'),*)
    };
}

/// The preset's words for each locale of [`crate::BUILTIN_LOCALES`], in that order, question by
/// question in display order. Amounts stay in US dollars (the points assume them), written the
/// local way; `\u{a0}` is a no-break space, `\u{202f}` a narrow one (French digit groups).
const WORDS: [&str; 4] = [
    words![
        // email: label, short label, placeholder
        "Work email",
        "Email",
        "name@company.com",
        // company: label, short label
        "Company",
        "Company",
        // budget: label, short, help; options none, under-10k, 10k-50k, 50k-250k, over-250k
        "What budget have you set aside for this?",
        "Budget",
        "A rough range is fine.",
        "No budget yet",
        "Under $10k",
        "$10k–$50k",
        "$50k–$250k",
        "Over $250k",
        // role: label, short; options decision-maker, influencer, researcher, student
        "What is your role in the decision?",
        "Role",
        "I make the decision",
        "I recommend; someone else signs",
        "I'm researching for my team",
        "I'm a student",
        // timeframe: label, short; options this-month, this-quarter, this-half, later, no-plan
        "When do you plan to decide?",
        "Timeframe",
        "This month",
        "Within 3 months",
        "Within 6 months",
        "Later than that",
        "No plans yet",
        // need: label, short; options replace, automate, new, exploring
        "What do you mainly need?",
        "Need",
        "Replace a tool we use today",
        "Automate a manual process",
        "Start something new",
        "Just exploring",
        // headcount: label, short, help; ranges 1-9, 10-49, 50-249, 250+
        "How many people would use it?",
        "Team size",
        "Number of people who would use it.",
        "1–9",
        "10–49",
        "50–249",
        "250+",
        // consent: the consent text, short label
        "I agree that you may contact me about my request. You can withdraw at any time.",
        "Consent",
    ],
    words![
        // email: label, short label, placeholder
        "Geschäftliche E-Mail-Adresse",
        "E-Mail",
        "name@firma.de",
        // company: label, short label
        "Unternehmen",
        "Unternehmen",
        // budget: label, short, help; options none, under-10k, 10k-50k, 50k-250k, over-250k
        "Welches Budget haben Sie dafür eingeplant?",
        "Budget",
        "Eine grobe Spanne genügt.",
        "Noch kein Budget",
        "Unter 10.000\u{a0}$",
        "10.000–50.000\u{a0}$",
        "50.000–250.000\u{a0}$",
        "Über 250.000\u{a0}$",
        // role: label, short; options decision-maker, influencer, researcher, student
        "Welche Rolle haben Sie bei der Entscheidung?",
        "Rolle",
        "Ich entscheide",
        "Ich empfehle, jemand anderes unterschreibt",
        "Ich recherchiere für mein Team",
        "Ich studiere",
        // timeframe: label, short; options this-month, this-quarter, this-half, later, no-plan
        "Wann möchten Sie entscheiden?",
        "Zeitrahmen",
        "Diesen Monat",
        "Innerhalb von 3 Monaten",
        "Innerhalb von 6 Monaten",
        "Später",
        "Noch keine Pläne",
        // need: label, short; options replace, automate, new, exploring
        "Was brauchen Sie hauptsächlich?",
        "Bedarf",
        "Ein Tool ersetzen, das wir heute nutzen",
        "Einen manuellen Prozess automatisieren",
        "Etwas Neues beginnen",
        "Ich informiere mich nur",
        // headcount: label, short, help; ranges 1-9, 10-49, 50-249, 250+
        "Wie viele Personen würden es nutzen?",
        "Teamgröße",
        "Anzahl der Personen, die es nutzen würden.",
        "1–9",
        "10–49",
        "50–249",
        "ab 250",
        // consent: the consent text, short label
        "Ich bin einverstanden, dass Sie mich zu meiner Anfrage kontaktieren. Ich kann meine Einwilligung jederzeit widerrufen.",
        "Einwilligung",
    ],
    words![
        // email: label, short label, placeholder
        "Adresse e-mail professionnelle",
        "E-mail",
        "nom@entreprise.fr",
        // company: label, short label
        "Entreprise",
        "Entreprise",
        // budget: label, short, help; options none, under-10k, 10k-50k, 50k-250k, over-250k
        "Quel budget avez-vous prévu pour ce projet\u{a0}?",
        "Budget",
        "Une fourchette approximative suffit.",
        "Pas encore de budget",
        "Moins de 10\u{202f}000\u{a0}$",
        "10\u{202f}000\u{a0}$ – 50\u{202f}000\u{a0}$",
        "50\u{202f}000\u{a0}$ – 250\u{202f}000\u{a0}$",
        "Plus de 250\u{202f}000\u{a0}$",
        // role: label, short; options decision-maker, influencer, researcher, student
        "Quel est votre rôle dans la décision\u{a0}?",
        "Rôle",
        "Je prends la décision",
        "Je recommande\u{a0}; quelqu’un d’autre signe",
        "Je me renseigne pour mon équipe",
        "Je fais des études",
        // timeframe: label, short; options this-month, this-quarter, this-half, later, no-plan
        "Quand prévoyez-vous de prendre votre décision\u{a0}?",
        "Échéance",
        "Ce mois-ci",
        "D’ici 3 mois",
        "D’ici 6 mois",
        "Plus tard",
        "Rien de prévu pour l’instant",
        // need: label, short; options replace, automate, new, exploring
        "De quoi avez-vous principalement besoin\u{a0}?",
        "Besoin",
        "Remplacer un outil que nous utilisons",
        "Automatiser un processus manuel",
        "Lancer un nouveau projet",
        "Simple découverte",
        // headcount: label, short, help; ranges 1-9, 10-49, 50-249, 250+
        "Combien de personnes l’utiliseraient\u{a0}?",
        "Taille de l’équipe",
        "Nombre de personnes qui l’utiliseraient.",
        "1–9",
        "10–49",
        "50–249",
        "250 et plus",
        // consent: the consent text, short label
        "J’accepte que vous me contactiez au sujet de ma demande. Je peux retirer mon consentement à tout moment.",
        "Consentement",
    ],
    words![
        // email: label, short label, placeholder
        "Correo electrónico profesional",
        "Correo",
        "nombre@empresa.com",
        // company: label, short label
        "Empresa",
        "Empresa",
        // budget: label, short, help; options none, under-10k, 10k-50k, 50k-250k, over-250k
        "¿Qué presupuesto ha previsto para esto?",
        "Presupuesto",
        "Basta con un rango aproximado.",
        "Aún no hay presupuesto",
        "Menos de 10.000\u{a0}US$",
        "10.000–50.000\u{a0}US$",
        "50.000–250.000\u{a0}US$",
        "Más de 250.000\u{a0}US$",
        // role: label, short; options decision-maker, influencer, researcher, student
        "¿Qué papel tiene usted en la decisión?",
        "Rol",
        "Yo tomo la decisión",
        "Yo recomiendo; otra persona firma",
        "Estoy investigando para mi equipo",
        "Soy estudiante",
        // timeframe: label, short; options this-month, this-quarter, this-half, later, no-plan
        "¿Cuándo tiene previsto decidir?",
        "Plazo",
        "Este mes",
        "En los próximos 3 meses",
        "En los próximos 6 meses",
        "Más adelante",
        "Aún no hay planes",
        // need: label, short; options replace, automate, new, exploring
        "¿Qué necesita principalmente?",
        "Necesidad",
        "Sustituir una herramienta que usamos hoy",
        "Automatizar un proceso manual",
        "Empezar algo nuevo",
        "Solo estoy explorando",
        // headcount: label, short, help; ranges 1-9, 10-49, 50-249, 250+
        "¿Cuántas personas lo usarían?",
        "Tamaño del equipo",
        "Número de personas que lo usarían.",
        "1–9",
        "10–49",
        "50–249",
        "250 o más",
        // consent: the consent text, short label
        "Acepto que se pongan en contacto conmigo en relación con mi solicitud. Puedo retirar mi consentimiento en cualquier momento.",
        "Consentimiento",
    ],
];

/// The words of one locale, taken in order.
struct Words(core::str::Split<'static, char>);

impl Words {
    /// The next text.
    fn text(&mut self) -> String {
        self.0.next().unwrap_or_default().to_owned()
    }

    /// A required question with its label and short label, the next two texts.
    fn question(
        &mut self,
        id: &str,
        kind: KindName,
        category: Category,
        priority: i32,
    ) -> QuestionConfig {
        QuestionConfig {
            id: id.to_owned(),
            kind: Some(kind),
            label: Some(self.text()),
            short_label: Some(self.text()),
            category: Some(category),
            priority: Some(priority),
            required: Some(true),
            ..QuestionConfig::default()
        }
    }

    /// Options from `(id, points)`, labelled by the next texts; `none` (no budget) and
    /// `student` are the preset's disqualifiers, which cap the grade at `cold`.
    fn options(&mut self, spec: &[(&str, i32)]) -> Option<Vec<OptionConfig>> {
        let mut options = Vec::with_capacity(spec.len());
        for &(id, points) in spec {
            options.push(OptionConfig {
                id: id.to_owned(),
                label: self.text(),
                points: Some(points),
                cap_grade: matches!(id, "none" | "student").then(|| "cold".to_owned()),
            });
        }
        Some(options)
    }
}

/// The questions of the `bant` preset in display order, in `locale`'s language (English when
/// it is not built in).
pub(crate) fn bant(locale: &str) -> Vec<QuestionConfig> {
    let mut w = Words(WORDS[builtin_index(locale).unwrap_or(0)].split(END));
    let mut email = w.question("email", KindName::Email, Category::Contact, 0);
    email.placeholder = Some(w.text());
    let company = w.question("company", KindName::Text, Category::Contact, 1);
    let mut budget = w.question("budget", KindName::SingleChoice, Category::Budget, 10);
    budget.help = Some(w.text());
    budget.options = w.options(&[
        ("none", 0),
        ("under-10k", 5),
        ("10k-50k", 15),
        ("50k-250k", 25),
        ("over-250k", 30),
    ]);
    let mut role = w.question("role", KindName::SingleChoice, Category::Authority, 20);
    role.options = w.options(&[
        ("decision-maker", 25),
        ("influencer", 15),
        ("researcher", 5),
        ("student", 0),
    ]);
    let mut timeframe = w.question("timeframe", KindName::SingleChoice, Category::Timeframe, 30);
    timeframe.options = w.options(&[
        ("this-month", 20),
        ("this-quarter", 15),
        ("this-half", 8),
        ("later", 2),
        ("no-plan", 0),
    ]);
    let mut need = w.question("need", KindName::SingleChoice, Category::Need, 40);
    need.options = w.options(&[
        ("replace", 20),
        ("automate", 15),
        ("new", 10),
        ("exploring", 2),
    ]);
    let mut headcount = w.question("headcount", KindName::Number, Category::Fit, 50);
    headcount.help = Some(w.text());
    headcount.min = Some(1.0);
    headcount.max = Some(1_000_000.0);
    let mut ranges = Vec::with_capacity(4);
    for (min, max, points) in [
        (1.0, Some(9.0), 2),
        (10.0, Some(49.0), 6),
        (50.0, Some(249.0), 10),
        (250.0, None, 12),
    ] {
        ranges.push(RangeConfig {
            min,
            max,
            points,
            label: Some(w.text()),
            cap_grade: None,
        });
    }
    headcount.ranges = Some(ranges);
    let consent = w.question("consent", KindName::Consent, Category::Contact, 2);
    debug_assert!(
        w.0.next() == Some("") && w.0.next().is_none(),
        "the preset takes every word of {locale}"
    );
    vec![
        email, company, budget, role, timeframe, need, headcount, consent,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_word() {
        for row in WORDS {
            let words: Vec<_> = row.split(END).collect();
            // 41 texts, each ended by END: the last part is empty.
            assert_eq!(words.len(), 42, "{row}");
            assert!(words[..41].iter().all(|w| !w.trim().is_empty()), "{row}");
        }
        for locale in ["en", "de", "fr", "es"] {
            // `bant` asserts in debug builds that it took every word.
            assert_eq!(bant(locale).len(), 8);
        }
    }
}

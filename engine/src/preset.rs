//! The `bant` preset: a ready B2B qualification form that config can override piece by piece.

use crate::config::{KindName, OptionConfig, QuestionConfig, RangeConfig};
use crate::form::Category;

fn option(id: &str, label: &str, points: i32) -> OptionConfig {
    OptionConfig {
        id: id.to_owned(),
        label: label.to_owned(),
        points: Some(points),
        cap_grade: None,
    }
}

fn capped(id: &str, label: &str, points: i32, grade: &str) -> OptionConfig {
    OptionConfig {
        cap_grade: Some(grade.to_owned()),
        ..option(id, label, points)
    }
}

fn range(min: f64, max: Option<f64>, points: i32, label: &str) -> RangeConfig {
    RangeConfig {
        min,
        max,
        points,
        label: Some(label.to_owned()),
        cap_grade: None,
    }
}

fn question(
    id: &str,
    kind: KindName,
    category: Category,
    priority: i32,
    label: &str,
) -> QuestionConfig {
    QuestionConfig {
        id: id.to_owned(),
        kind: Some(kind),
        label: Some(label.to_owned()),
        category: Some(category),
        priority: Some(priority),
        required: Some(true),
        ..QuestionConfig::default()
    }
}

/// The questions of the `bant` preset, in display order.
pub(crate) fn bant() -> Vec<QuestionConfig> {
    vec![
        QuestionConfig {
            placeholder: Some("name@company.com".into()),
            short_label: Some("Email".into()),
            ..question("email", KindName::Email, Category::Contact, 0, "Work email")
        },
        QuestionConfig {
            short_label: Some("Company".into()),
            ..question("company", KindName::Text, Category::Contact, 1, "Company")
        },
        QuestionConfig {
            short_label: Some("Budget".into()),
            help: Some("A rough range is fine.".into()),
            options: Some(vec![
                capped("none", "No budget yet", 0, "cold"),
                option("under-10k", "Under $10k", 5),
                option("10k-50k", "$10k–$50k", 15),
                option("50k-250k", "$50k–$250k", 25),
                option("over-250k", "Over $250k", 30),
            ]),
            ..question(
                "budget",
                KindName::SingleChoice,
                Category::Budget,
                10,
                "What budget have you set aside for this?",
            )
        },
        QuestionConfig {
            short_label: Some("Role".into()),
            options: Some(vec![
                option("decision-maker", "I make the decision", 25),
                option("influencer", "I recommend; someone else signs", 15),
                option("researcher", "I'm researching for my team", 5),
                capped("student", "I'm a student", 0, "cold"),
            ]),
            ..question(
                "role",
                KindName::SingleChoice,
                Category::Authority,
                20,
                "What is your role in the decision?",
            )
        },
        QuestionConfig {
            short_label: Some("Timeframe".into()),
            options: Some(vec![
                option("this-month", "This month", 20),
                option("this-quarter", "Within 3 months", 15),
                option("this-half", "Within 6 months", 8),
                option("later", "Later than that", 2),
                option("no-plan", "No plans yet", 0),
            ]),
            ..question(
                "timeframe",
                KindName::SingleChoice,
                Category::Timeframe,
                30,
                "When do you plan to decide?",
            )
        },
        QuestionConfig {
            short_label: Some("Need".into()),
            options: Some(vec![
                option("replace", "Replace a tool we use today", 20),
                option("automate", "Automate a manual process", 15),
                option("new", "Start something new", 10),
                option("exploring", "Just exploring", 2),
            ]),
            ..question(
                "need",
                KindName::SingleChoice,
                Category::Need,
                40,
                "What do you mainly need?",
            )
        },
        QuestionConfig {
            short_label: Some("Team size".into()),
            help: Some("Number of people who would use it.".into()),
            min: Some(1.0),
            max: Some(1_000_000.0),
            ranges: Some(vec![
                range(1.0, Some(9.0), 2, "1–9"),
                range(10.0, Some(49.0), 6, "10–49"),
                range(50.0, Some(249.0), 10, "50–249"),
                range(250.0, None, 12, "250+"),
            ]),
            ..question(
                "headcount",
                KindName::Number,
                Category::Fit,
                50,
                "How many people would use it?",
            )
        },
        QuestionConfig {
            short_label: Some("Consent".into()),
            ..question(
                "consent",
                KindName::Consent,
                Category::Contact,
                2,
                "I agree that you may contact me about my request. You can withdraw at any time.",
            )
        },
    ]
}

//! Languages: the built-in locales, `"locale": "auto"`, translations in config, and direction.

use std::path::PathBuf;

use bantam_engine::{
    parse_config, parse_config_for, score, Answers, Direction, Form, Input, Kind, BUILTIN_LOCALES,
};
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/configs")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn bant(locale: &str) -> Form {
    parse_config(json!({ "formId": "f", "preset": "bant", "locale": locale })).unwrap()
}

/// Every text of a form's questions, as (where, text).
fn question_texts(form: &Form) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    for q in &form.questions {
        let mut add =
            |what: &str, text: &str| texts.push((format!("{}.{what}", q.id), text.into()));
        add("label", &q.label);
        add("shortLabel", &q.short_label);
        for (what, text) in [("help", &q.help), ("placeholder", &q.placeholder)] {
            if let Some(text) = text {
                add(what, text);
            }
        }
        for c in q.kind.choices() {
            add(&format!("options.{}", c.id), &c.label);
        }
        if let Kind::Number { ranges, .. } = &q.kind {
            for (i, r) in ranges.iter().enumerate() {
                add(&format!("ranges[{i}]"), &r.label);
            }
        }
    }
    texts
}

/// A form with its texts taken out: what a translation must not change.
fn structure(form: &Form) -> String {
    let mut form = form.clone();
    for q in &mut form.questions {
        q.label.clear();
        q.short_label.clear();
        q.help = None;
        q.placeholder = None;
        match &mut q.kind {
            Kind::SingleChoice(c) | Kind::MultipleChoice(c) | Kind::YesNo(c) => {
                c.iter_mut().for_each(|c| c.label.clear())
            }
            Kind::Number { ranges, .. } => ranges.iter_mut().for_each(|r| r.label.clear()),
            _ => {}
        }
    }
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        form.questions,
        form.weights,
        form.grades
            .iter()
            .map(|g| (&g.name, g.min))
            .collect::<Vec<_>>(),
        form.delivery,
        form.thank_you_by_grade
            .iter()
            .map(|(g, _)| g)
            .collect::<Vec<_>>()
    )
}

/// Texts the same in English and `locale` because they are the same words there.
fn same_by_nature(locale: &str, english: &str) -> bool {
    matches!(
        (locale, english),
        // The short label of the budget question: "Budget" is German and French too.
        ("de" | "fr", "Budget")
        // Numbers.
        | (_, "1–9" | "10–49" | "50–249")
    )
}

#[test]
fn the_preset_is_translated_in_every_builtin_locale() {
    let en = bant("en");
    let en_texts = question_texts(&en);
    assert_eq!(en_texts.len(), 41, "every text of the preset is compared");
    for locale in ["de", "fr", "es"] {
        let form = bant(locale);
        assert_eq!(
            structure(&form),
            structure(&en),
            "{locale}: same questions and points"
        );
        for ((at, text), (_, english)) in question_texts(&form).iter().zip(&en_texts) {
            assert!(
                text != english || same_by_nature(locale, english),
                "{locale}: {at} \"{text}\" is not translated"
            );
            assert!(!text.trim().is_empty(), "{locale}: {at}");
        }
        assert_ne!(form.texts.next, en.texts.next);
        assert_ne!(form.texts.thank_you_title, en.texts.thank_you_title);
        assert_ne!(form.grades[0].label, en.grades[0].label, "{locale}: Hot");
    }
    // The exceptions are real: each one occurs.
    let budget = |l: &str| bant(l).question("budget").unwrap().short_label.clone();
    assert_eq!([budget("de"), budget("fr")], ["Budget", "Budget"]);
    assert_eq!(BUILTIN_LOCALES, ["en", "de", "fr", "es"]);
}

#[test]
fn auto_follows_the_page_languages() {
    let config = json!({ "formId": "f", "preset": "bant", "locale": "auto" });
    for (preferred, locale, submit) in [
        (&["de-AT"][..], "de", "Absenden"),
        (&["pt-BR", "fr"][..], "fr", "Envoyer"),
        (&[][..], "en", "Send"),
        (&["zh-CN", "ja"][..], "en", "Send"),
        (&["ES-mx", "de"][..], "es", "Enviar"),
    ] {
        let form = parse_config_for(config.clone(), preferred).unwrap();
        assert_eq!(
            (form.locale.as_str(), form.texts.submit.as_str()),
            (locale, submit),
            "{preferred:?}"
        );
        assert_eq!(form.questions[2].label, bant(locale).questions[2].label);
        assert_eq!(form.locales, ["en", "de", "fr", "es"]);
    }

    // An explicit locale ignores the page.
    let form = parse_config_for(
        json!({ "formId": "f", "preset": "bant", "locale": "es" }),
        &["de", "fr"],
    )
    .unwrap();
    assert_eq!(
        (form.locale.as_str(), form.texts.submit.as_str()),
        ("es", "Enviar")
    );
    assert_eq!(form.locales, ["es"]);
    // A locale written with '_', as configs could before language tags were checked.
    let form = bant("de_DE");
    assert_eq!(
        (form.locale.as_str(), form.texts.next.as_str()),
        ("de_DE", "Weiter")
    );
    assert_eq!(
        parse_config(json!({"formId": "f", "preset": "bant"}))
            .unwrap()
            .locales,
        ["en"]
    );

    // A translation adds a locale `auto` can pick.
    let italian = json!({ "formId": "f", "preset": "bant", "locale": "auto", "translations": {
        "it": { "texts": { "submit": "Invia" }, "questions": [
            { "id": "email", "label": "Email di lavoro" } ] } } });
    let form = parse_config_for(italian.clone(), &["it-IT", "en"]).unwrap();
    assert_eq!(form.locales, ["en", "de", "fr", "es", "it"]);
    assert_eq!(
        (
            form.locale.as_str(),
            form.texts.submit.as_str(),
            form.questions[0].label.as_str()
        ),
        ("it", "Invia", "Email di lavoro")
    );
    // Texts the translation leaves out are English, the language of the base config.
    assert_eq!(form.texts.next, "Next");
    let form = parse_config_for(italian, &["de"]).unwrap();
    assert_eq!(
        (form.texts.submit.as_str(), form.questions[0].label.as_str()),
        ("Absenden", "Geschäftliche E-Mail-Adresse")
    );
}

#[test]
fn translations_override_only_texts() {
    let config = fixture("three-languages.json");
    let page = |lang: &str| parse_config_for(config.clone(), &[lang]).unwrap();
    let (en, de, fr, es) = (page("en-US"), page("de-CH"), page("fr"), page("es"));
    for form in [&de, &fr, &es] {
        assert_eq!(structure(form), structure(&en), "{}", form.locale);
    }

    let crm = |f: &Form| {
        let q = f.question("crm").unwrap();
        let labels: Vec<_> = q.kind.choices().iter().map(|c| c.label.as_str()).collect();
        format!("{} | {}", q.label, labels.join(", "))
    };
    let budget = |f: &Form| {
        let q = f.question("budget").unwrap();
        (q.label.clone(), q.help.clone().unwrap())
    };
    let hot = |f: &Form| {
        f.thank_you_for(0)
            .link
            .clone()
            .map(|l| (l.text, l.url))
            .unwrap()
    };

    assert_eq!(en.title.as_deref(), Some("Get your quote"));
    assert_eq!(en.texts.submit, "Get my quote");
    assert_eq!(
        crm(&en),
        "Which CRM do you use? | HubSpot, Salesforce, None yet"
    );

    assert_eq!(
        (
            de.title.as_deref(),
            de.texts.submit.as_str(),
            de.texts.back.as_str()
        ),
        (Some("Ihr Angebot"), "Angebot anfordern", "Zurück")
    );
    assert_eq!(
        crm(&de),
        "Welches CRM nutzen Sie? | HubSpot, Salesforce, Noch keins"
    );
    assert_eq!(
        budget(&de),
        (
            "Welches Budget haben Sie dafür eingeplant?".into(),
            "In US-Dollar, für das erste Jahr.".into()
        )
    );
    assert_eq!(
        hot(&de),
        (
            "Termin buchen".into(),
            "https://cal.example.com/de/sales".into()
        )
    );
    assert_eq!(
        de.intro.as_deref().map(|i| i.starts_with("Sechs")),
        Some(true)
    );

    // A translated link text keeps the config's URL.
    assert_eq!(
        hot(&fr),
        (
            "Prendre rendez-vous".into(),
            "https://cal.example.com/sales".into()
        )
    );
    assert_eq!(
        crm(&fr),
        "Quel CRM utilisez-vous ? | HubSpot, Salesforce, Aucun pour l’instant"
    );

    // Spanish is built in but not translated in this config: the preset and the interface are
    // Spanish, the config's own texts stay as written.
    assert_eq!(es.locale, "es");
    assert_eq!(budget(&es).0, "¿Qué presupuesto ha previsto para esto?");
    assert_eq!(
        (es.title.as_deref(), es.texts.submit.as_str()),
        (Some("Get your quote"), "Get my quote")
    );
}

#[test]
fn translations_reach_implicit_options_ranges_and_consent() {
    let config = json!({ "formId": "f", "locale": "fr", "questions": [
            { "id": "approver", "kind": "yesNo", "label": "Do you sign?", "options": [ { "id": "yes", "points": 5 } ] },
            { "id": "seats", "kind": "number", "label": "Seats", "ranges": [ { "min": 0, "max": 9, "points": 1 }, { "min": 10, "points": 5 } ] },
            { "id": "consent", "kind": "consent", "label": "You may contact me." } ],
        "translations": { "fr": {
            "texts": { "yes": "Oui, bien sûr" },
            "questions": [
                { "id": "approver", "label": "Signez-vous ?", "options": [ { "id": "no", "label": "Non, pas moi" } ] },
                { "id": "seats", "label": "Postes", "ranges": [ { "label": "moins de 10" } ] },
                { "id": "consent", "label": "Vous pouvez me contacter." } ] } } });
    let form = parse_config(config).unwrap();
    let approver = form.question("approver").unwrap();
    let choices: Vec<_> = approver
        .kind
        .choices()
        .iter()
        .map(|c| (c.id.as_str(), c.label.as_str(), c.points))
        .collect();
    assert_eq!(
        choices,
        [("yes", "Oui, bien sûr", 5), ("no", "Non, pas moi", 0)]
    );
    let Kind::Number { ranges, .. } = &form.question("seats").unwrap().kind else {
        panic!("a number question")
    };
    let labels: Vec<_> = ranges.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["moins de 10", "10+"]);
    assert_eq!(form.question("seats").unwrap().short_label, "Postes");
    assert_eq!(
        form.question("consent").unwrap().label,
        "Vous pouvez me contacter."
    );
}

#[test]
fn reasons_read_in_the_forms_language() {
    let form = bant("de");
    let reasons = |pairs: &[(&str, &str)]| {
        let mut a = Answers::new();
        for (id, value) in pairs {
            let input = match *id {
                "headcount" => Input::Text(value),
                _ => Input::Checked(vec![(*value).to_owned()]),
            };
            a.set(&form, id, input).unwrap();
        }
        score(&form, &a)
            .reasons
            .into_iter()
            .map(|r| r.text)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reasons(&[]),
        [
            "Budget: nicht beantwortet",
            "Rolle: nicht beantwortet",
            "Zeitrahmen: nicht beantwortet",
            "Bedarf: nicht beantwortet",
            "Teamgröße: nicht beantwortet",
        ]
    );
    assert_eq!(
        reasons(&[
            ("budget", "over-250k"),
            ("role", "student"),
            ("timeframe", "this-month"),
            ("need", "replace"),
            ("headcount", "400"),
        ]),
        [
            "Budget Über 250.000\u{a0}$: +30",
            "Rolle Ich studiere: +0 (höchstens Kalt)",
            "Zeitrahmen Diesen Monat: +20",
            "Bedarf Ein Tool ersetzen, das wir heute nutzen: +20",
            "Teamgröße 400 (ab 250): +12",
        ]
    );

    // The reason texts are texts like any other.
    let form = parse_config(json!({ "formId": "f", "preset": "bant", "grades": [
            { "name": "hot", "min": 70 }, { "name": "meh", "min": 0 } ],
        "texts": { "reasonNotAnswered": "{question} — open", "reasonCapped": "[max {grade}]" } }))
    .unwrap();
    let mut a = Answers::new();
    a.set(&form, "role", Input::Checked(vec!["student".into()]))
        .unwrap();
    let s = score(&form, &a);
    assert_eq!(s.reasons[0].text, "Budget — open");
    assert_eq!(s.reasons[1].text, "Role I'm a student: +0 [max Meh]");
    assert_eq!(form.grades[0].label, "Hot");
}

#[test]
fn right_to_left_languages_are_marked() {
    for (locale, direction) in [
        ("ar", Direction::Rtl),
        ("he", Direction::Rtl),
        ("iw", Direction::Rtl),
        ("fa-IR", Direction::Rtl),
        ("ur", Direction::Rtl),
        ("az-Arab", Direction::Rtl),
        ("ar-Latn", Direction::Ltr),
        ("de", Direction::Ltr),
        ("en-US", Direction::Ltr),
        ("ku", Direction::Ltr),
    ] {
        assert_eq!(Direction::of(locale), direction, "{locale}");
    }
    assert_eq!(
        (Direction::Rtl.as_str(), Direction::Ltr.as_str()),
        ("rtl", "ltr")
    );

    // A language without built-in texts: English until config gives its own.
    let form = parse_config(json!({ "formId": "f", "locale": "he",
        "texts": { "next": "הבא", "submit": "שליחה" },
        "questions": [ { "id": "email", "kind": "email", "label": "דוא״ל" } ] }))
    .unwrap();
    assert_eq!(
        (
            form.locale.as_str(),
            form.direction,
            form.texts.next.as_str(),
            form.texts.back.as_str()
        ),
        ("he", Direction::Rtl, "הבא", "Back")
    );

    // With `auto`, an Arabic translation serves an Arabic page, right to left.
    let config = json!({ "formId": "f", "preset": "bant", "locale": "auto",
        "translations": { "ar": { "title": "اطلب عرض سعر", "texts": { "submit": "إرسال" } } } });
    let form = parse_config_for(config.clone(), &["ar-EG"]).unwrap();
    assert_eq!(
        (form.locale.as_str(), form.direction, form.title.as_deref()),
        ("ar", Direction::Rtl, Some("اطلب عرض سعر"))
    );
    let form = parse_config_for(config, &["fr"]).unwrap();
    assert_eq!((form.direction, form.title), (Direction::Ltr, None));
}

#[test]
fn every_locale_of_a_config_rebuilds_it() {
    // What the collector does to re-score a lead in its locale.
    let config = fixture("three-languages.json");
    let form = parse_config(config.clone()).unwrap();
    for locale in &form.locales {
        let again = parse_config_for(config.clone(), &[locale]).unwrap();
        assert_eq!(&again.locale, locale);
    }
}

#[test]
fn decimal_separators_follow_the_language() {
    for (locale, comma) in [
        ("en", false),
        ("de-AT", true),
        ("fr", true),
        ("es", true),
        ("he", false),
    ] {
        assert_eq!(bant(locale).decimal_comma(), comma, "{locale}");
    }
}

//! Reading a CRM's CSV: which column is what, each bad row named, rows as scored leads.

use super::*;
use serde_json::Value as Json;

fn forms() -> Forms {
    let mut forms = Forms::empty();
    forms.insert(
        bantam_engine::parse_config(serde_json::json!({
            "formId": "crm",
            "preset": "bant",
            "questions": [
                {"id": "tools", "kind": "multipleChoice", "label": "Tools", "options": [
                    {"id": "crm", "label": "A CRM", "points": 5}, {"id": "sheet", "label": "Spreadsheets", "points": 1}]},
                {"id": "trial", "kind": "yesNo", "label": "Trial?", "options": [{"id": "yes", "points": 4}, {"id": "no"}]}
            ]
        }))
        .unwrap(),
    );
    forms
}

fn checked(csv: &str, maps: &[(&str, &str)]) -> Result<CheckedFile, ImportError> {
    let maps: Vec<(String, String)> = maps
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    check(&forms(), "crm", csv.as_bytes(), &maps)
}

fn rows_error(csv: &str, maps: &[(&str, &str)]) -> Vec<String> {
    match checked(csv, maps) {
        Err(ImportError::Rows(rows)) => rows.iter().map(ToString::to_string).collect(),
        other => panic!("expected bad rows, got {other:?}"),
    }
}

fn columns_error(csv: &str, maps: &[(&str, &str)]) -> String {
    match checked(csv, maps) {
        Err(ImportError::Columns(message)) => message,
        other => panic!("expected a column problem, got {other:?}"),
    }
}

fn document(lead: &Imported) -> Json {
    serde_json::from_str(&lead.lead.document).unwrap()
}

#[test]
fn columns_are_read_by_id_label_short_label_or_map() {
    let file = checked(
        "Created,Status,EMAIL,Budget,What is your role in the decision?,Owner,Tools\n\
         2025-03-14,won,ann@acme.io,Over $250k,decision-maker,Kim,A CRM;sheet\n",
        &[("Created", "date")],
    )
    .unwrap();
    let read: Vec<(&str, Option<String>)> = file
        .columns
        .iter()
        .map(|(h, c)| (h.as_str(), c.as_ref().map(ToString::to_string)))
        .collect();
    assert_eq!(
        read,
        [
            ("Created", Some("date".into())),
            ("Status", Some("outcome".into())),
            ("EMAIL", Some("question email".into())),
            ("Budget", Some("question budget".into())),
            (
                "What is your role in the decision?",
                Some("question role".into())
            ),
            ("Owner", None),
            ("Tools", Some("question tools".into())),
        ]
    );
    let lead = document(&file.leads[0]);
    assert_eq!(
        lead["answers"]["tools"],
        serde_json::json!(["crm", "sheet"])
    );
}

#[test]
fn missing_columns_and_wrong_maps_are_named() {
    let message = columns_error("when,budget\n2025-01-01,none\n", &[("when", "date")]);
    assert_eq!(
        message,
        "no column is read as outcome: name one \"outcome\" or give --map COLUMN=outcome (the file's columns: when, budget)"
    );
    let message = columns_error("date,outcome\n", &[("Stage", "outcome")]);
    assert!(
        message.starts_with("--map Stage=outcome: the file has no column \"Stage\""),
        "{message}"
    );
    let message = columns_error("date,outcome,b\n", &[("b", "buget")]);
    assert!(
        message.starts_with(
            "--map b=buget: \"buget\" is not a question of form crm (email, company, budget,"
        ),
        "{message}"
    );
    let message = columns_error("date,outcome,status\n", &[]);
    assert_eq!(
        message,
        "columns \"outcome\" and \"status\" are both read as outcome; map one elsewhere with --map"
    );
}

#[test]
fn every_bad_row_is_named_by_line_column_and_value() {
    let csv = "date,outcome,budget,email,headcount,trial,id\n\
        2025-01-01,won,none,a@acme.io,12,yes,r1\n\
        \"2025-01-02\",lost,\"Over\n$250k\",b@acme.io,5,no,r2\n\
        14/03/2025,maybe,Over $250k,not-an-email,lots,perhaps,r3\n\
        2025-01-04,won,none\n\
        2025-01-05,won,none,c@acme.io,3,yes,r1\n\
        ,lost,none,d@acme.io,3,yes,r%\n";
    assert_eq!(
        rows_error(csv, &[]),
        [
            "line 3, column \"budget\": \"Over\n$250k\": not an option of budget: none (No budget yet), under-10k (Under $10k), 10k-50k ($10k–$50k), 50k-250k ($50k–$250k), over-250k (Over $250k)",
            "line 5, column \"date\": \"14/03/2025\": not a date: write 2025-03-14, 2025-03-14 09:30 or 2025-03-14T09:30:00Z (times in UTC)",
            "line 5, column \"outcome\": \"maybe\": not an outcome: write won, lost, accepted or rejected (or leave it empty)",
            "line 5, column \"email\": \"not-an-email\": not a valid email address",
            "line 5, column \"headcount\": \"lots\": not a number",
            "line 5, column \"trial\": \"perhaps\": not an option of trial: yes (Yes), no (No)",
            "line 6: 3 cells, but the header has 7 columns",
            "line 7, column \"id\": \"r1\": the same id as line 2",
            "line 8, column \"date\": \"\": a date is needed",
            "line 8, column \"id\": \"r%\": an id is 1-100 letters, digits, '-' or '_'",
        ]
    );
}

#[test]
fn rows_become_leads_the_engine_scored() {
    let csv = "\u{feff}date;outcome;budget;role;email;utm_source;page_url;headcount\n\
        2025-03-14 09:30;Closed Won;over-250k;I make the decision;ann@acme.io;LinkedIn;https://www.example.com/pricing?gclid=abc;120\n\
        2025-03-15;;none;;bob@gmail.com;;;\n\
        2025-03-15;;none;;bob@gmail.com;;;\n";
    let file = checked(csv, &[]).unwrap();
    assert_eq!(file.leads.len(), 3);
    let first = &file.leads[0];
    assert_eq!(first.received_at, "2025-03-14T09:30:00.000Z");
    assert_eq!(first.status.as_deref(), Some("won"));
    let lead = document(first);
    assert_eq!(lead["submittedAt"], "2025-03-14T09:30:00.000Z");
    assert_eq!(
        lead["asked"],
        serde_json::json!(["email", "budget", "role", "headcount"])
    );
    assert_eq!(
        lead["attribution"]["lastTouch"]["utm"]["source"],
        "LinkedIn"
    );
    assert_eq!(lead["attribution"]["lastTouch"]["clickIds"]["gclid"], "abc");
    assert_eq!(first.lead.utm[0].as_deref(), Some("LinkedIn"));
    // Scored by the engine as a posted lead is: the preset's points, over what was asked.
    let form = forms().get("crm").unwrap();
    let doc: bantam_engine::LeadDocument = serde_json::from_value(lead.clone()).unwrap();
    let answers = Answers::from_lead(&form, &doc).unwrap();
    let score = doc.rescore(&form, &answers);
    assert_eq!(
        (first.lead.total, first.lead.grade.as_str()),
        (score.total, score.grade.as_str())
    );
    assert_eq!(lead["score"]["total"], i64::from(score.total));
    assert_eq!(first.lead.grade, "hot");
    // An empty cell is a question not asked; an empty outcome is none.
    let second = &file.leads[1];
    assert_eq!(second.status, None);
    assert_eq!(
        document(second)["asked"],
        serde_json::json!(["email", "budget"])
    );
    assert_eq!(
        document(second)["context"]["emailDomainKind"],
        "free",
        "the collector's own enrichment"
    );
    // Ids come from the content: the same file gives the same ids; equal rows differ.
    let ids: Vec<&str> = file.leads.iter().map(|l| l.lead.id.as_str()).collect();
    assert!(ids
        .iter()
        .all(|id| id.starts_with("import-") && id.len() == 27));
    assert_ne!(ids[1], ids[2]);
    let again = checked(csv, &[]).unwrap();
    let ids_again: Vec<&str> = again.leads.iter().map(|l| l.lead.id.as_str()).collect();
    assert_eq!(ids, ids_again);
}

#[test]
fn dates_and_outcomes_read_as_documented() {
    for (cell, want) in [
        ("2025-03-14", Some("2025-03-14T00:00:00.000Z")),
        (" 2025-03-14 09:30 ", Some("2025-03-14T09:30:00.000Z")),
        ("2025-03-14T09:30", Some("2025-03-14T09:30:00.000Z")),
        ("2025-03-14 09:30:15", Some("2025-03-14T09:30:15.000Z")),
        ("2025-03-14T09:30:15.5Z", Some("2025-03-14T09:30:15.500Z")),
        ("2025-03-14T09:30:15+01:00", None),
        ("2025-02-30x", None),
        ("2025-13-01", None),
        ("03/14/2025", None),
        ("2025-03-14é09:30", None),
    ] {
        assert_eq!(date(cell).ok().as_deref(), want, "{cell}");
    }
    for (cell, want) in [
        ("won", Ok(Some("won"))),
        (" Lost ", Ok(Some("lost"))),
        ("ACCEPTED", Ok(Some("accepted"))),
        ("rejected", Ok(Some("rejected"))),
        ("Closed Won", Ok(Some("won"))),
        ("closed-lost", Ok(Some("lost"))),
        ("", Ok(None)),
        ("closed", Err(())),
        ("open", Err(())),
    ] {
        assert_eq!(outcome(cell).map_err(drop), want, "{cell}");
    }
}

//! The sales inbox as a sales rep meets it (issue 13): filters that list each grade once,
//! sources whatever their case, source quality that a grade filter leaves alone, bad filters
//! answered with a page, answers in the form's order, readable times, a status filter, and a
//! CSV that spreadsheets read in UTF-8. Storage tests run on both stores (`on_both_stores!`).

mod common;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bantam_collector::{app, AppState, Forms, Settings};
use bantam_engine::parse_config;
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "s3cret-admin-token";

/// A collector with the `demo` form and a second form, `other`, with the same grade names.
async fn router(db: &TestDb) -> Router {
    let settings = Settings {
        allowed_origins: vec!["https://www.example.com".into()],
        admin_token: Some(TOKEN.into()),
        rate_per_minute: 0,
        burst: 1,
        forwarding: None,
    };
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    forms.insert(parse_config(json!({"formId": "other", "preset": "bant"})).unwrap());
    app(
        AppState::new(db.open().await, Arc::new(RwLock::new(forms)), settings),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

/// Status, content type and body.
async fn fetch(router: &Router, request: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, bytes.to_vec())
}

async fn html(router: &Router, uri: &str) -> String {
    let (status, kind, body) = fetch(router, get(uri)).await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    assert!(kind.starts_with("text/html"), "{uri}: {kind}");
    body
}

/// A lead of `demo` from `company`, graded by its budget, from a page with `utm` parameters.
fn lead(id: &str, company: &str, budget: &str, utm: &str) -> String {
    let email = format!("{id}@acme.io");
    let answers = [
        ("email", email.as_str()),
        ("company", company),
        ("budget", budget),
        ("role", "decision-maker"),
        ("timeframe", "this-month"),
    ];
    common::lead_json("demo", id, &answers, &format!("https://x.io/?{utm}"))
}

async fn store(router: &Router, leads: &[(&str, &str, &str, &str)]) {
    for (id, company, budget, utm) in leads {
        let request = Request::post("/v1/leads")
            .header("content-type", "application/json")
            .body(Body::from(lead(id, company, budget, utm)))
            .unwrap();
        let (status, _, body) = fetch(router, request).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// The options of the `<select name="…">` in a page.
fn options(page: &str, name: &str) -> Vec<String> {
    let start = page
        .find(&format!("<select name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} select"));
    let select = &page[start..start + page[start..].find("</select>").unwrap()];
    select
        .split("<option")
        .skip(2) // before the first option, and "all"
        .map(|o| o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()].to_owned())
        .collect()
}

/// The lead-source quality section of an inbox page.
fn quality(page: &str) -> &str {
    let start = page.find("<h2 id=\"sq\">").expect("a quality section");
    &page[start..start + page[start..].find("</section>").unwrap()]
}

#[tokio::test]
async fn each_grade_is_offered_once() {
    let db = TestDb::sqlite();
    let router = router(&db).await;
    let page = html(&router, "/inbox/leads").await;
    // Two forms name the same three grades: each is listed once, and filters both forms.
    assert_eq!(options(&page, "grade"), ["hot", "warm", "cold"]);
    assert_eq!(
        options(&page, "status"),
        ["new", "accepted", "rejected", "won", "lost"]
    );
}

async fn sources_mediums_and_campaigns_ignore_case(db: TestDb) {
    let router = router(&db).await;
    store(
        &router,
        &[
            (
                "a1",
                "Acme",
                "over-250k",
                "utm_source=Google&utm_medium=CPC&utm_campaign=Spring",
            ),
            (
                "a2",
                "Globex",
                "none",
                "utm_source=google&utm_medium=cpc&utm_campaign=spring",
            ),
            (
                "a3",
                "Initech",
                "over-250k",
                "utm_source=GOOGLE&utm_medium=cpc&utm_campaign=spring",
            ),
            (
                "b1",
                "Hooli",
                "none",
                "utm_source=newsletter&utm_medium=email",
            ),
        ],
    )
    .await;
    for uri in [
        "/inbox/leads?source=google",
        "/inbox/leads?source=Google",
        "/inbox/leads?source=gOOgle&medium=CPC",
        "/inbox/leads?campaign=SPRING",
    ] {
        let page = html(&router, uri).await;
        assert!(page.contains("3 match"), "{uri}");
        assert!(!page.contains("b1@acme.io"), "{uri}");
    }
    // One row for the three spellings, in lowercase, with all three leads (two of them hot).
    let page = html(&router, "/inbox/leads").await;
    let table = quality(&page);
    assert_eq!(
        table.matches("<tr>").count(),
        3,
        "header and two sources: {table}"
    );
    assert!(
        table.contains("<td data-label=\"Source\">google</td><td data-label=\"Medium\">cpc</td><td data-label=\"Campaign\">spring</td><td data-label=\"Leads\" class=\"num\">3</td><td data-label=\"Best grade\" class=\"num\">67%</td>"),
        "{table}"
    );
    let rows = &table[table.find("<tbody>").unwrap()..];
    assert!(
        !rows.contains("Google") && !rows.contains("GOOGLE"),
        "{rows}"
    );
    // The export and its filter agree.
    let (_, _, csv) = fetch(&router, get("/v1/leads.csv?source=GoOgLe")).await;
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 4);
    // "(none)" still means no source at all.
    let page = html(&router, "/inbox/leads?source=(none)").await;
    assert!(page.contains("0 match"), "no lead without a source");
}

async fn a_grade_filter_leaves_source_quality_alone(db: TestDb) {
    let router = router(&db).await;
    store(
        &router,
        &[
            ("h1", "Acme", "over-250k", "utm_source=google"),
            ("h2", "Globex", "over-250k", "utm_source=google"),
            ("c1", "Initech", "under-10k", "utm_source=google"),
            ("c2", "Hooli", "under-10k", "utm_source=newsletter"),
        ],
    )
    .await;
    let all = html(&router, "/inbox/leads").await;
    let hot = html(&router, "/inbox/leads?grade=hot").await;
    assert!(
        hot.contains("2 match") && !hot.contains("c1@acme.io"),
        "the list is filtered"
    );
    // The quality table is the same with or without the grade filter: google 3 leads, 67%.
    assert_eq!(quality(&hot), quality(&all));
    assert!(
        quality(&hot).contains("<td data-label=\"Leads\" class=\"num\">3</td><td data-label=\"Best grade\" class=\"num\">67%</td>"),
        "{}",
        quality(&hot)
    );
    assert!(quality(&hot).contains("newsletter"), "other sources stay");
    assert!(quality(&hot).contains("whatever their grade, sales status or owner"));
    // A status or a search does not change it either; a source filter does.
    let won = html(&router, "/inbox/leads?status=won&q=acme").await;
    assert_eq!(quality(&won), quality(&all));
    let google = html(&router, "/inbox/leads?source=google&grade=cold").await;
    assert!(!quality(&google).contains("newsletter"));
    assert!(quality(&google).contains("source google"));
}

#[tokio::test]
async fn a_bad_filter_is_answered_with_the_inbox_page() {
    let db = TestDb::sqlite();
    let router = router(&db).await;
    for (uri, message, field) in [
        (
            "/inbox/leads?grade=lukewarm",
            "no grade is called “lukewarm”",
            Some("grade"),
        ),
        (
            "/inbox/leads?status=maybe",
            "no status is called “maybe”",
            Some("status"),
        ),
        (
            "/inbox/leads?from=2026-13-45",
            "“2026-13-45” is not a date",
            Some("from"),
        ),
        (
            "/inbox/leads?to=2026-02-30",
            "“2026-02-30” is not a date",
            Some("to"),
        ),
        ("/inbox/leads?offset=abc", "“abc” is not a page", None),
        ("/inbox/leads?colour=red", "unknown field `colour`", None),
    ] {
        let (status, kind, body) = fetch(&router, get(uri)).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(kind.starts_with("text/html"), "{uri}: {kind}");
        assert!(body.starts_with("<!doctype html>"), "{uri}");
        // The message sits next to the filter form, which keeps the values given.
        let error = body.find("id=\"filter-error\"").expect("the message");
        let form = body.find("<form class=\"filters\"").expect("the filters");
        assert!(error < form, "{uri}");
        assert!(body[error..form].contains(message), "{uri}: {body}");
        if let Some(field) = field {
            assert!(
                body.contains(&format!("name=\"{field}\" aria-invalid=\"true\""))
                    || body.contains(&format!("name=\"{field}\" value=")),
                "{uri}"
            );
        }
    }
    // What a visitor typed is shown escaped.
    let (_, _, body) = fetch(&router, get("/inbox/leads?from=%3Cb%3Ex")).await;
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("“&lt;b&gt;x” is not a date") && !body.contains("<b>x"));
    assert!(body.contains("name=\"from\" value=\"&lt;b&gt;x\" aria-invalid=\"true\""));
    // The API keeps JSON.
    let (status, kind, body) = fetch(&router, get("/v1/leads.csv?grade=lukewarm")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(kind.starts_with("application/json"), "{kind}");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["field"], "grade");
}

async fn answers_follow_the_form_and_times_are_readable(db: TestDb) {
    let router = router(&db).await;
    store(&router, &[("o1", "Acme", "over-250k", "utm_source=google")]).await;
    let page = html(&router, "/inbox/leads/o1").await;
    let answers =
        &page[page.find("<h2>Answers</h2>").unwrap()..page.find("<h2>Score</h2>").unwrap()];
    // The form asks email, company, budget, role, timeframe (by id they would sort budget first).
    let at = |label: &str| {
        answers
            .find(label)
            .unwrap_or_else(|| panic!("{label}: {answers}"))
    };
    let order = [
        at("Work email"),
        at(">Company<"),
        at("What budget have you set aside for this?"),
        at("What is your role in the decision?"),
        at("When do you plan to decide?"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{answers}");
    // Times read as people write them, with the zone said, and machine-readable for scripts.
    assert!(
        page.contains("<time datetime=\"2026-11-23T08:00:00.000Z\">23 Nov 2026, 08:00 UTC</time>"),
        "submitted: {page}"
    );
    let list = html(&router, "/inbox/leads").await;
    let time = &list[list.find("<time datetime=\"").expect("a time")..];
    let shown = &time[time.find('>').unwrap() + 1..time.find("</time>").unwrap()];
    assert!(
        shown.ends_with(" UTC") && shown.contains(", ") && !shown.contains('Z'),
        "{shown}"
    );
    // The page may load the local-time script, and only from the collector itself.
    assert!(page.contains("<script src=\"/inbox/local-time.js\" defer></script>"));
    let response = router
        .clone()
        .oneshot(get("/inbox/leads/o1"))
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline'; script"),
        "{csp}"
    );
    let (status, kind, _) = fetch(&router, get("/inbox/local-time.js")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/javascript"), "{kind}");
}

async fn the_chart_has_labelled_axes_and_a_table(db: TestDb) {
    let router = router(&db).await;
    store(
        &router,
        &[
            ("d1", "Acme", "over-250k", "utm_source=google"),
            ("d2", "Globex", "none", "utm_source=google"),
        ],
    )
    .await;
    let page = html(&router, "/inbox/leads").await;
    let chart = &page[page.find("<h2 id=\"ld\">").expect("the chart")..];
    let chart = &chart[..chart.find("</section>").unwrap()];
    assert!(chart.contains(">Leads</text>"), "value axis title");
    assert!(chart.contains(">Day received (UTC)"), "day axis title");
    assert!(
        chart.contains("text-anchor=\"end\">0</text>"),
        "value axis numbers"
    );
    assert!(chart.contains("aria-labelledby=\"chart-title chart-desc\""));
    assert!(
        chart.contains("2 leads, 1 of them with the best grade"),
        "{chart}"
    );
    // Today's row in the table of the chart's numbers.
    assert!(
        chart.contains("<td data-label=\"Leads\" class=\"num\">2</td><td data-label=\"Best grade\" class=\"num\">1</td>"),
        "{chart}"
    );
}

async fn leads_filter_by_sales_status(db: TestDb) {
    let router = router(&db).await;
    store(
        &router,
        &[
            ("s1", "Acme", "over-250k", "utm_source=google"),
            ("s2", "Globex", "none", "utm_source=google"),
            ("s3", "Initech", "none", "utm_source=google"),
        ],
    )
    .await;
    for (id, status) in [("s1", "won"), ("s2", "rejected")] {
        let request = Request::post(format!("/v1/leads/{id}/status"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(json!({ "status": status }).to_string()))
            .unwrap();
        assert_eq!(fetch(&router, request).await.0, StatusCode::OK);
    }
    let won = html(&router, "/inbox/leads?status=won").await;
    assert!(won.contains("1 match") && won.contains("s1@acme.io") && !won.contains("s2@acme.io"));
    assert!(won.contains("<option selected>won</option>"));
    let new = html(&router, "/inbox/leads?status=new").await;
    assert!(new.contains("1 match") && new.contains("s3@acme.io") && !new.contains("s1@acme.io"));
    let (_, _, csv) = fetch(&router, get("/v1/leads.csv?status=won")).await;
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("s1,"));
    let (status, _, _) = fetch(&router, get("/v1/leads.csv?status=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn the_csv_starts_with_a_byte_order_mark(db: TestDb) {
    let router = router(&db).await;
    store(
        &router,
        &[("z1", "Zoë Müller GmbH", "over-250k", "utm_source=google")],
    )
    .await;
    let (status, kind, csv) = fetch(&router, get("/v1/leads.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "text/csv; charset=utf-8");
    assert_eq!(&csv[..3], b"\xEF\xBB\xBF", "a UTF-8 byte-order mark first");
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv[3..].starts_with("id,received_at,"));
    assert_eq!(csv.matches('\u{FEFF}').count(), 1, "once, at the start");
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",Zoë Müller GmbH,"), "{row}");
    // The fields read from the document (page URL, reasons, spam, context) are all there.
    assert!(row.contains(",https://x.io/?utm_source=google,"), "{row}");
    assert!(row.contains("Budget Over $250k: +30"), "{row}");
    assert!(row.ends_with(",false,business,acme.io,"), "{row}");
}

crate::on_both_stores!(
    sources_mediums_and_campaigns_ignore_case,
    a_grade_filter_leaves_source_quality_alone,
    answers_follow_the_form_and_times_are_readable,
    the_chart_has_labelled_axes_and_a_table,
    leads_filter_by_sales_status,
    the_csv_starts_with_a_byte_order_mark,
);

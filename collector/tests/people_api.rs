//! People through the router (issue 13): a visitor's two posts are one person, `/v1/people`
//! lists people with the inbox's filters (owner too), the people CSV, the owner API, sales
//! feedback on a person (bad input is a 422 naming the field) and the old per-lead status
//! still giving feedback to the lead's person; on both stores.

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

async fn router(db: &TestDb) -> Router {
    let settings = Settings {
        allowed_origins: vec![],
        admin_token: Some(TOKEN.into()),
        rate_per_minute: 0,
        burst: 1,
        forwarding: None,
    };
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    app(
        AppState::new(db.open().await, Arc::new(RwLock::new(forms)), settings),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
    )
}

/// A lead of the demo form as the widget sends it, from the visitor `visitor`.
fn lead(id: &str, visitor: &str, answers: &[(&str, &str)], url: &str) -> String {
    let mut doc: Value =
        serde_json::from_str(&common::lead_json("demo", id, answers, url)).unwrap();
    doc["visitorId"] = Value::from(visitor);
    doc.to_string()
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
    )
}

fn post_lead(body: String) -> Request<Body> {
    Request::post("/v1/leads")
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

fn admin(method: &str, path: &str, body: Option<Value>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap()
}

async fn a_visitor_who_comes_twice_is_one_person_in_the_api(db: TestDb) {
    let router = router(&db).await;
    // First visit: no email yet, a modest budget (warm or cold); second: email and a big one.
    let first = lead(
        "v1",
        "visitor-1",
        &[("budget", "10k-50k")],
        "https://x.io/?utm_source=google&utm_medium=cpc",
    );
    let (status, _, text) = send(&router, post_lead(first)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let second = lead(
        "v2",
        "visitor-1",
        &[
            ("email", "Ann@Acme.io"),
            ("budget", "over-250k"),
            ("role", "decision-maker"),
            ("timeframe", "this-month"),
        ],
        "https://x.io/?utm_source=newsletter",
    );
    let (status, _, text) = send(&router, post_lead(second)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    // A malformed visitor id is dropped, not refused.
    let odd = lead("v3", "not an id!", &[("email", "bo@initech.com")], "");
    let (status, _, text) = send(&router, post_lead(odd)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");

    let (status, body, _) = send(&router, admin("GET", "/v1/people", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2);
    let ann = &body["people"][1];
    assert_eq!(ann["key"], "ann@acme.io");
    assert_eq!(ann["submissions"], 2);
    assert_eq!(ann["latestLead"], "v2");
    assert_eq!(ann["firstTouch"]["source"], "google");
    assert_eq!(ann["lastTouch"]["source"], "newsletter");
    assert_eq!(body["people"][0]["key"], "bo@initech.com");
    let (_, bo, _) = send(&router, admin("GET", "/v1/people/bo@initech.com", None)).await;
    assert!(bo["leads"][0]["lead"].get("visitorId").is_none(), "{bo}");
    // The submissions stay as they were: three leads.
    let (_, leads, _) = send(&router, admin("GET", "/v1/leads", None)).await;
    assert_eq!(leads["leads"].as_array().unwrap().len(), 3);

    // Filters apply to people: the latest grade, the owner, a bad value is a 400.
    let grade = ann["grade"].as_str().unwrap().to_owned();
    let (_, by_grade, _) = send(
        &router,
        admin("GET", &format!("/v1/people?grade={grade}"), None),
    )
    .await;
    assert!(by_grade["people"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["key"] == "ann@acme.io"));
    let (status, _, _) = send(
        &router,
        admin(
            "PUT",
            "/v1/people/ann@acme.io/owner",
            Some(json!({"owner": " Sam "})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, owned, _) = send(&router, admin("GET", "/v1/people?owner=Sam", None)).await;
    assert_eq!(owned["total"], 1);
    assert_eq!(owned["people"][0]["owner"], "Sam");
    let (_, unassigned, _) = send(&router, admin("GET", "/v1/people?owner=unassigned", None)).await;
    assert_eq!(unassigned["people"][0]["key"], "bo@initech.com");
    assert_eq!(unassigned["total"], 1);
    let (status, _, _) = send(&router, admin("GET", "/v1/people?status=maybe", None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body, _) = send(
        &router,
        admin(
            "PUT",
            "/v1/people/nobody@x.io/owner",
            Some(json!({"owner": "Sam"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The people CSV starts with a byte-order mark, one line per person.
    let (status, _, csv) = send(&router, admin("GET", "/v1/people.csv?owner=Sam", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("\u{FEFF}key,email,company,owner,grade"),
        "{csv}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with("ann@acme.io,ann@acme.io,,Sam,"),
        "{csv}"
    );
    // The people list's lead-source quality ignores the grade filter: filtered to Ann's grade,
    // it still counts Bo (no source) beside Ann (Google, her first touch).
    let (status, _, html) = send(
        &router,
        admin("GET", &format!("/inbox?grade={grade}"), None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let first = html
        .split("<table class=\"cards\" aria-labelledby=\"sq-first\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default();
    assert!(
        first.contains(">google<") && first.contains(">(none)<"),
        "{first}"
    );
    let last = html
        .split("<table class=\"cards\" aria-labelledby=\"sq-last\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default();
    assert!(
        last.contains(">newsletter<") && !last.contains(">google<"),
        "{last}"
    );
    // Without the token, nothing.
    let anonymous = Request::get("/v1/people").body(Body::empty()).unwrap();
    let (status, _, _) = send(&router, anonymous).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn feedback_on_a_person_is_checked_and_recorded(db: TestDb) {
    let router = router(&db).await;
    for (id, budget) in [("f1", "10k-50k"), ("f2", "over-250k")] {
        let body = lead(
            id,
            "visitor-f",
            &[("email", "ann@acme.io"), ("budget", budget)],
            "",
        );
        let (status, _, text) = send(&router, post_lead(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{text}");
    }
    let feedback = |body: Value| admin("POST", "/v1/people/ann@acme.io/feedback", Some(body));
    for (body, field) in [
        (json!({"status": "maybe"}), "status"),
        (json!({"status": "rejected"}), "reason"),
        (
            json!({"status": "rejected", "reason": "too-pricey"}),
            "reason",
        ),
        (
            json!({"status": "accepted", "reason": "no-budget"}),
            "reason",
        ),
        (json!({"status": "won"}), "value"),
        (json!({"status": "won", "value": -5}), "value"),
        (json!({"status": "lost", "value": 10}), "value"),
    ] {
        let (status, answer, _) = send(&router, feedback(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(field),
            "{body}: {answer}"
        );
    }
    let (status, answer, _) =
        send(&router, feedback(json!({"status": "won", "value": "lots"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("value"),
        "{answer}"
    );
    let (status, answer, _) = send(
        &router,
        admin(
            "POST",
            "/v1/people/nobody@x.io/feedback",
            Some(json!({"status": "accepted"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    let (status, accepted, _) = send(&router, feedback(json!({"status": "accepted"}))).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(
        accepted["feedback"]["leadId"], "f2",
        "the latest submission"
    );
    assert_eq!(accepted["feedback"]["by"], "admin");
    let (status, won, _) = send(&router, feedback(json!({"status": "won", "value": 12000}))).await;
    assert_eq!(status, StatusCode::OK, "{won}");
    assert_eq!(won["feedback"]["value"], 12000.0);
    // The person's page shows the value with its thousands separated, in the status and the
    // feedback history.
    let (status, _, html) = send(&router, admin("GET", "/inbox/people/ann%40acme.io", None)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<dd>won 12,000 · "), "{html}");
    assert!(html.contains("class=\"num\">12,000</td>"), "{html}");
    assert!(!html.contains("12000"), "{html}");
    // The latest submission carries the status, so learning and the leads' filter see it.
    let (_, export, _) = send(&router, admin("GET", "/v1/people/ann@acme.io", None)).await;
    assert_eq!(export["leads"][1]["status"], "won", "{export}");
    assert_eq!(export["leads"][0]["status"], Value::Null, "{export}");
    assert_eq!(
        export["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["won", "accepted"]
    );
    // The old per-lead status still works: it is feedback to the lead's person.
    let (status, old, _) = send(
        &router,
        admin(
            "POST",
            "/v1/leads/f1/status",
            Some(json!({"status": "lost"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{old}");
    assert_eq!(old["status"], "lost");
    let (_, people, _) = send(&router, admin("GET", "/v1/people?status=lost", None)).await;
    assert_eq!(people["people"][0]["key"], "ann@acme.io", "{people}");
    let (_, export, _) = send(&router, admin("GET", "/v1/people/ann@acme.io", None)).await;
    assert_eq!(export["feedback"].as_array().unwrap().len(), 3);
    assert_eq!(export["feedback"][0]["leadId"], "f1");
    // From another site's page, refused.
    let mut foreign = feedback(json!({"status": "accepted"}));
    foreign
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let (status, _, _) = send(&router, foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

on_both_stores!(
    a_visitor_who_comes_twice_is_one_person_in_the_api,
    feedback_on_a_person_is_checked_and_recorded,
);

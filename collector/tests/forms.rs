//! Forms with a history (issue 12): the `/v1/forms` API the editor stands on and the inbox's
//! forms pages, against a forms folder of the test's own and each store (`sqlite::…`,
//! `postgres::…`; see `on_both_stores!` at the end).

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bantam_collector::{
    app, record_form_versions, watch_form_versions, watch_forms, AppState, Forms, Imported,
    Ingested, Settings,
};
use bantam_engine::{parse_config, Answers, LeadDocument};
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "forms-admin-token";
const HOST: &str = "collector.test:8080";

/// The one form the folder starts with.
fn quote() -> Value {
    json!({ "formId": "quote", "preset": "bant", "title": "Get a quote" })
}

/// A forms folder of its own, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Folder {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "bantam-forms-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("quote.json"),
            serde_json::to_string_pretty(&quote()).unwrap(),
        )
        .unwrap();
        Folder(dir)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The collector as `main` starts it: the folder's forms loaded and recorded as versions.
async fn start(db: &TestDb, dir: &Path) -> Router {
    let settings = Settings {
        admin_token: Some(TOKEN.into()),
        ..Settings::default()
    };
    let forms = Arc::new(RwLock::new(Forms::load(dir).unwrap()));
    let state = AppState::new(db.open().await, forms, settings).with_forms_dir(dir.to_path_buf());
    record_form_versions(&state).await.unwrap();
    app(state, common::root().join("www"))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

/// A JSON change from a script (no `Origin`), as the admin.
fn post(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A form post from the inbox's own page, with Basic auth as a browser sends it (user `ann`).
fn page_post(uri: &str, body: &str, origin: &str) -> Request<Body> {
    // "ann:forms-admin-token" in base64.
    let basic = "YW5uOmZvcm1zLWFkbWluLXRva2Vu";
    Request::post(uri)
        .header("host", HOST)
        .header("origin", origin)
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn publish(router: &Router, config: &Value, based_on: i64) -> Answer {
    let body = json!({ "config": config, "note": "from the test", "basedOn": based_on });
    send(router, post("/v1/forms/quote/versions", &body)).await
}

/// The quote form with the hot grade from `hot` up (warm from 40 or half of it, cold below).
fn with_hot_from(hot: u8) -> Value {
    let mut config = quote();
    config["grades"] = json!([
        { "name": "hot", "min": hot },
        { "name": "warm", "min": 40.min(hot / 2) },
        { "name": "cold", "min": 0 }
    ]);
    config
}

async fn forms_are_created_from_the_preset_or_a_copy(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let created = send(
        &router,
        post(
            "/v1/forms",
            &json!({ "id": "spring-2027", "from": "preset" }),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let form = created.json();
    assert_eq!(
        (&form["id"], &form["file"], &form["version"]),
        (&json!("spring-2027"), &json!("spring-2027.json"), &json!(1))
    );
    assert_eq!(
        form["config"],
        json!({ "formId": "spring-2027", "preset": "bant" })
    );
    let on_disk: Value = serde_json::from_str(&folder.read("spring-2027.json")).unwrap();
    assert_eq!(on_disk, form["config"]);
    let served = send(&router, get("/forms/spring-2027.json")).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.text, folder.read("spring-2027.json"));

    let copy = send(
        &router,
        post(
            "/v1/forms",
            &json!({ "id": "quote-copy", "from": "copy:quote" }),
        ),
    )
    .await;
    assert_eq!(copy.status, StatusCode::CREATED, "{}", copy.text);
    let mut expected = quote();
    expected["formId"] = json!("quote-copy");
    assert_eq!(copy.json()["config"], expected);
    let history = send(&router, get("/v1/forms/quote-copy/versions")).await;
    assert_eq!(history.json()[0]["note"], "created as a copy of quote");
    assert_eq!(history.json()[0]["diff"], json!(["first version"]));

    let again = send(
        &router,
        post("/v1/forms", &json!({ "id": "quote", "from": "preset" })),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    for bad in ["Spring", "a_b", "", &"x".repeat(65)] {
        let refused = send(
            &router,
            post("/v1/forms", &json!({ "id": bad, "from": "preset" })),
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(refused.json()["field"], "id");
        assert!(refused.json()["error"].as_str().is_some());
    }
    let unknown = send(
        &router,
        post("/v1/forms", &json!({ "id": "other", "from": "copy:nope" })),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["field"], "from");
    assert_eq!(
        folder.names(),
        ["quote-copy.json", "quote.json", "spring-2027.json"]
    );

    let list = send(&router, get("/v1/forms")).await.json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["quote-copy", "quote", "spring-2027"]);
    assert_eq!(list[1]["version"], 1);
    assert_eq!(
        (&list[1]["leads30"], &list[1]["hotShare"]),
        (&json!(0), &Value::Null)
    );
}

async fn a_publish_is_written_and_served_at_once(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let before = send(&router, get("/v1/forms/quote")).await.json();
    assert_eq!(
        (&before["version"], &before["config"]),
        (&json!(1), &quote())
    );

    let config = with_hot_from(60);
    let published = publish(&router, &config, 1).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    assert_eq!(published.json()["version"], 2);
    assert_eq!(published.json()["by"], "admin");
    let text = folder.read("quote.json");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), config);
    let served = send(&router, get("/forms/quote.json")).await;
    assert_eq!(served.text, text, "served at once, no watcher needed");
    let after = send(&router, get("/v1/forms/quote")).await.json();
    assert_eq!((&after["version"], &after["config"]), (&json!(2), &config));
    // No temporary file or backup is left beside it.
    assert_eq!(folder.names(), ["quote.json"]);

    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["note"], "from the test");
    assert_eq!(history[0]["diff"], json!(["grades added: [{\"min\":60,\"name\":\"hot\"},{\"min\":30,\"name\":\"warm\"},{\"min\":0,\"name\":\"cold\"}]"]));
    assert_eq!(history[1]["by"], "file");
    let third = publish(&router, &with_hot_from(50), 2).await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.text);
    assert_eq!(
        third.json()["diff"],
        json!(["grades[hot].min: 60 → 50", "grades[warm].min: 30 → 25"])
    );
    let old = send(&router, get("/v1/forms/quote/versions/2")).await;
    assert_eq!(old.json(), config);
    let missing = send(&router, get("/v1/forms/quote/versions/9")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn an_invalid_config_is_refused_with_the_engines_path(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let mut bad = quote();
    bad["grades"] = json!([{ "name": "hot", "min": 10 }, { "name": "warm", "min": 40 }]);
    let engine = parse_config(bad.clone()).unwrap_err();
    let refused = publish(&router, &bad, 1).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["path"], engine.path(), "{}", refused.text);
    assert_eq!(refused.json()["error"], engine.to_string());

    let checked = send(&router, post("/v1/forms/check", &bad)).await.json();
    assert_eq!(checked["ok"], false);
    assert_eq!(checked["errors"][0]["path"], engine.path());
    let good = send(&router, post("/v1/forms/check", &quote()))
        .await
        .json();
    assert_eq!(good, json!({ "ok": true, "errors": [], "warnings": [] }));

    let mut other = quote();
    other["formId"] = json!("someone-else");
    let wrong_id = publish(&router, &other, 1).await;
    assert_eq!(wrong_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_id.json()["path"], "formId");

    // Nothing was written or recorded.
    let on_disk: Value = serde_json::from_str(&folder.read("quote.json")).unwrap();
    assert_eq!(on_disk, quote());
    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
}

async fn a_publish_from_a_stale_version_is_409(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    assert_eq!(
        publish(&router, &with_hot_from(60), 1).await.status,
        StatusCode::CREATED
    );
    let late = publish(&router, &with_hot_from(80), 1).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    let error = late.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("version 2") && error.contains("by admin"),
        "{error}"
    );
    let on_disk: Value = serde_json::from_str(&folder.read("quote.json")).unwrap();
    assert_eq!(
        on_disk,
        with_hot_from(60),
        "the later publish wrote nothing"
    );
}

async fn two_publishes_from_one_version_at_once_record_one(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let (sixty, eighty) = (with_hot_from(60), with_hot_from(80));
    let (a, b) = tokio::join!(publish(&router, &sixty, 1), publish(&router, &eighty, 1));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let winner = if a.status == StatusCode::CREATED {
        sixty
    } else {
        eighty
    };
    let on_disk: Value = serde_json::from_str(&folder.read("quote.json")).unwrap();
    assert_eq!(on_disk, winner, "the file holds the version recorded");
    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    assert_eq!(history.as_array().unwrap().len(), 2);
}

async fn a_rollback_publishes_the_old_config_as_a_new_version(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let original = folder.read("quote.json");
    publish(&router, &with_hot_from(60), 1).await;
    let rolled = send(
        &router,
        post("/v1/forms/quote/rollback", &json!({ "version": 1 })),
    )
    .await;
    assert_eq!(rolled.status, StatusCode::CREATED, "{}", rolled.text);
    assert_eq!(rolled.json()["version"], 3);
    assert_eq!(rolled.json()["note"], "rollback to 1");
    assert_eq!(
        folder.read("quote.json"),
        original,
        "the same bytes as version 1"
    );
    let served = send(&router, get("/forms/quote.json")).await;
    assert_eq!(served.text, original);
    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    let numbers: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "history is never rewritten");
    let missing = send(
        &router,
        post("/v1/forms/quote/rollback", &json!({ "version": 7 })),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn a_hand_edit_becomes_a_version_at_start(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    drop(router);
    // Started again with the file unchanged: nothing new.
    let router = start(&db, &folder.0).await;
    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
    drop(router);
    let mut edited = quote();
    edited["title"] = json!("Get a quote today");
    std::fs::write(folder.0.join("quote.json"), edited.to_string()).unwrap();
    let router = start(&db, &folder.0).await;
    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history[0]["by"], "file");
    assert_eq!(
        history[0]["note"],
        "quote.json was changed in the forms folder"
    );
    assert_eq!(
        history[0]["diff"],
        json!(["title: \"Get a quote\" → \"Get a quote today\""])
    );
    let form = send(&router, get("/v1/forms/quote")).await.json();
    assert_eq!(form["version"], 2);
}

async fn a_hand_edit_while_running_becomes_a_version(db: TestDb) {
    let folder = Folder::new();
    let settings = Settings {
        admin_token: Some(TOKEN.into()),
        ..Settings::default()
    };
    let forms = Arc::new(RwLock::new(Forms::load(&folder.0).unwrap()));
    let every = std::time::Duration::from_millis(50);
    watch_forms(folder.0.clone(), forms.clone(), every);
    let state = AppState::new(db.open().await, forms, settings).with_forms_dir(folder.0.clone());
    record_form_versions(&state).await.unwrap();
    watch_form_versions(state.clone(), every);
    let router = app(state, common::root().join("www"));
    let mut edited = quote();
    edited["title"] = json!("Edited by hand");
    std::fs::write(folder.0.join("quote.json"), edited.to_string()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let form = loop {
        let form = send(&router, get("/v1/forms/quote")).await.json();
        if form["version"] == 2 {
            break form;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edit was not recorded: {form}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(form["config"], edited);
    let history = send(&router, get("/v1/forms/quote/versions")).await.json();
    assert_eq!(history[0]["by"], "file");
    assert_eq!(history.as_array().unwrap().len(), 2);
    // A lead now carries the recorded version.
    post_lead(&router, lead("edited", "10k-50k")).await;
    let listed = send(&router, get("/v1/leads")).await.json();
    assert_eq!(listed["leads"][0]["formVersion"], 2);
}

fn lead(id: &str, budget: &str) -> String {
    common::lead_json(
        "quote",
        id,
        &[
            ("email", "ann@acme.io"),
            ("company", "Acme"),
            ("budget", budget),
        ],
        "https://www.example.com/pricing",
    )
}

async fn post_lead(router: &Router, body: String) -> Value {
    let answer = send(
        router,
        Request::post("/v1/leads")
            .header("host", HOST)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json()
}

async fn a_lead_records_the_version_it_was_scored_with(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    post_lead(&router, lead("before", "50k-250k")).await;
    publish(&router, &with_hot_from(60), 1).await;
    post_lead(&router, lead("after", "50k-250k")).await;
    let listed = send(&router, get("/v1/leads")).await.json();
    let versions: Vec<(String, Value)> = listed["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lead"]["id"].as_str().unwrap().to_owned(),
                l["formVersion"].clone(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("after".to_owned(), json!(2)),
            ("before".to_owned(), json!(1))
        ]
    );
    let page = send(&router, get("/inbox/leads/after")).await;
    assert!(page.text.contains("scored with version 2"), "{}", page.text);
    // A lead stored before versions existed shows none.
    db.execute("UPDATE leads SET form_version = NULL WHERE id = 'before'")
        .await;
    let page = send(&router, get("/inbox/leads/before")).await;
    assert!(!page.text.contains("scored with version"));
}

async fn the_impact_of_a_draft_counts_grade_changes(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let budgets = ["none", "under-10k", "10k-50k", "50k-250k", "over-250k"];
    let mut totals = Vec::new();
    for (i, budget) in budgets.iter().cycle().take(15).enumerate() {
        let stored = post_lead(&router, lead(&format!("lead-{i}"), budget)).await;
        totals.push((
            stored["grade"].as_str().unwrap().to_owned(),
            stored["total"].as_u64().unwrap(),
        ));
    }
    // Hot from 20, warm from 10: each lead's grade by the draft's minimums, from its stored
    // total (the points do not change).
    let regraded = |total: u64| match total {
        20.. => "hot",
        10.. => "warm",
        _ => "cold",
    };
    let moved = |from: &str, to: &str| {
        totals
            .iter()
            .filter(|(g, t)| g == from && regraded(*t) == to)
            .count()
    };
    let changed = totals.iter().filter(|(g, t)| g != regraded(*t)).count();
    assert!(changed > 0, "some leads change grade: {totals:?}");
    let impact = send(&router, post("/v1/forms/quote/impact", &with_hot_from(20))).await;
    assert_eq!(impact.status, StatusCode::OK, "{}", impact.text);
    let impact = impact.json();
    assert_eq!(impact["leads"], 15);
    assert_eq!(impact["limit"], 10_000);
    assert_eq!(impact["changed"], changed);
    let transitions = impact["transitions"].as_array().unwrap();
    let total: u64 = transitions
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, changed);
    for t in transitions {
        let (from, to) = (t["from"].as_str().unwrap(), t["to"].as_str().unwrap());
        assert_eq!(
            t["count"].as_u64().unwrap() as usize,
            moved(from, to),
            "{t}"
        );
    }
    let sample = &impact["sample"][0];
    assert_eq!(
        sample["scoreBefore"], sample["scoreAfter"],
        "points did not move"
    );
    // The draft is not published.
    let form = send(&router, get("/v1/forms/quote")).await.json();
    assert_eq!(form["version"], 1);
    let mut bad = quote();
    bad["questions"] = json!("nope");
    let refused = send(&router, post("/v1/forms/quote/impact", &bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_impact_reads_the_newest_10000_leads_at_most(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let form = parse_config(quote()).unwrap();
    let budgets = ["none", "under-10k", "10k-50k", "50k-250k", "over-250k"];
    // 10,050 leads, one a second, scored as the collector scores them.
    let leads: Vec<Imported> = (0..10_050)
        .map(|i| {
            let id = format!("bulk-{i:05}");
            let json = lead(&id, budgets[i % budgets.len()]);
            let doc: LeadDocument = serde_json::from_str(&json).unwrap();
            let score = doc.rescore(&form, &Answers::from_lead(&form, &doc).unwrap());
            Imported {
                lead: Ingested {
                    id,
                    form_id: "quote".into(),
                    submitted_at: doc.submitted_at.clone(),
                    email: Some("ann@acme.io".into()),
                    company: Some("Acme".into()),
                    utm: [None, None, None],
                    best_grade: score.grade == "hot",
                    deliveries: Vec::new(),
                    client_total: score.total,
                    client_grade: score.grade.clone(),
                    grade: score.grade,
                    total: score.total,
                    document: json,
                    body_sha256: format!("hash-{i}"),
                    form_version: Some(1),
                    visitor_id: None,
                    spam: false,
                    first_utm: [None, None, None],
                },
                received_at: format!(
                    "2026-11-01T{:02}:{:02}:{:02}.000Z",
                    i / 3600,
                    i / 60 % 60,
                    i % 60
                ),
                status: None,
            }
        })
        .collect();
    // The newest 10,000 (the first 50 are older) and how many the draft regrades.
    let regraded = |total: u8| match total {
        20.. => "hot",
        10.. => "warm",
        _ => "cold",
    };
    let changed = leads[50..]
        .iter()
        .filter(|l| l.lead.grade != regraded(l.lead.total))
        .count();
    db.open()
        .await
        .import(leads, "2026-11-02T00:00:00.000Z")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let impact = send(&router, post("/v1/forms/quote/impact", &with_hot_from(20))).await;
    let took = started.elapsed();
    assert_eq!(impact.status, StatusCode::OK, "{}", impact.text);
    let impact = impact.json();
    assert_eq!(
        (&impact["leads"], &impact["limit"]),
        (&json!(10_000), &json!(10_000))
    );
    assert_eq!(impact["changed"], changed);
    assert_eq!(impact["sample"].as_array().unwrap().len(), 20);
    eprintln!(
        "impact of a draft on the newest 10,000 of 10,050 stored leads ({}): {:.2} s",
        if db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        took.as_secs_f64()
    );
}

async fn changes_need_the_admin_and_the_inbox_itself(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let changes = [
        ("/v1/forms", json!({ "id": "new-one", "from": "preset" })),
        ("/v1/forms/check", quote()),
        (
            "/v1/forms/quote/versions",
            json!({ "config": with_hot_from(60), "basedOn": 1 }),
        ),
        ("/v1/forms/quote/rollback", json!({ "version": 1 })),
        ("/v1/forms/quote/impact", quote()),
    ];
    for (uri, body) in &changes {
        let mut anonymous = post(uri, body);
        anonymous.headers_mut().remove("authorization");
        assert_eq!(
            send(&router, anonymous).await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        let mut elsewhere = post(uri, body);
        elsewhere
            .headers_mut()
            .insert("origin", "https://evil.example".parse().unwrap());
        assert_eq!(
            send(&router, elsewhere).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    for uri in ["/v1/forms", "/v1/forms/quote", "/v1/forms/quote/versions"] {
        let mut anonymous = get(uri);
        anonymous.headers_mut().remove("authorization");
        assert_eq!(
            send(&router, anonymous).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // The inbox's own forms need its own origin.
    let own = format!("http://{HOST}");
    for origin in ["https://evil.example", ""] {
        let mut request = page_post("/inbox/forms", "id=new-one&from=preset", origin);
        if origin.is_empty() {
            request.headers_mut().remove("origin");
        }
        assert_eq!(send(&router, request).await.status, StatusCode::FORBIDDEN);
        let request = page_post("/inbox/forms/quote/rollback", "version=1", origin);
        assert_eq!(send(&router, request).await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(folder.names(), ["quote.json"], "nothing was written");
    let created = send(
        &router,
        page_post("/inbox/forms", "id=new-one&from=preset", &own),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
}

async fn the_forms_pages_create_show_and_roll_back(db: TestDb) {
    let folder = Folder::new();
    let router = start(&db, &folder.0).await;
    let own = format!("http://{HOST}");
    let list = send(&router, get("/inbox/forms")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list
        .text
        .contains("<a href=\"/inbox/forms/quote\">quote</a>"));
    assert!(list.text.contains("None: every file is a valid form."));
    let inbox = send(&router, get("/inbox")).await;
    assert!(inbox.text.contains("<a href=\"/inbox/forms\">Forms</a>"));

    // A bad id is shown again with why, escaped.
    let refused = send(
        &router,
        page_post("/inbox/forms", "id=%3Cb%3EBad&from=preset", &own),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("value=\"&lt;b&gt;Bad\""));
    assert!(!refused.text.contains("<b>Bad"));

    let created = send(
        &router,
        page_post("/inbox/forms", "id=autumn&from=copy%3Aquote", &own),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    assert_eq!(created.headers["location"], "/inbox/forms/autumn?created=1");
    let mut expected = quote();
    expected["formId"] = json!("autumn");
    assert_eq!(
        serde_json::from_str::<Value>(&folder.read("autumn.json")).unwrap(),
        expected
    );
    let history = send(&router, get("/v1/forms/autumn/versions")).await.json();
    assert_eq!(history[0]["by"], "ann", "the Basic auth user name");

    // A version with a note that is markup, then the form's page.
    let mut config = expected.clone();
    config["title"] = json!("<script>alert(1)</script>");
    let body = json!({ "config": config, "note": "<img src=x onerror=alert(1)>", "basedOn": 1 });
    let published = send(&router, post("/v1/forms/autumn/versions", &body)).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let page = send(&router, get("/inbox/forms/autumn")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"));
    assert_eq!(
        script_src,
        Some("script-src 'self'"),
        "no inline script: {csp}"
    );
    assert!(csp.contains("style-src 'unsafe-inline'"));
    assert!(!page.text.contains("<img src=x"));
    assert!(!page.text.contains("<script>alert"));
    assert!(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page
        .text
        .contains("<script src=\"/inbox/assets/copy.js\" defer></script>"));
    for text in [
        "<strong>version 2</strong>",
        "href=\"/inbox/forms/autumn/edit\"",
        "href=\"/inbox/forms/autumn/fit\"",
        "<button>Roll back to version 1</button>",
        "created as a copy of quote",
        // The embed code names this collector as the request reached it.
        "&lt;script src=&quot;http://collector.test:8080/dist/embed.js&quot; data-target=&quot;#lead-form&quot;",
        "data-config-url=&quot;http://collector.test:8080/forms/autumn.json&quot;",
        "import { mount } from &quot;http://collector.test:8080/dist/bantam.js&quot;",
    ] {
        assert!(page.text.contains(text), "{text} in {}", page.text);
    }
    // Behind a TLS proxy, the embed code says https.
    let mut proxied = get("/inbox/forms/autumn");
    proxied
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let proxied = send(&router, proxied).await;
    assert!(proxied
        .text
        .contains("https://collector.test:8080/dist/embed.js"));
    let script = send(&router, get("/inbox/assets/copy.js")).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    let rolled = send(
        &router,
        page_post("/inbox/forms/autumn/rollback", "version=1", &own),
    )
    .await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.text);
    assert_eq!(
        rolled.headers["location"],
        "/inbox/forms/autumn?published=3"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&folder.read("autumn.json")).unwrap(),
        expected
    );
    let page = send(&router, get("/inbox/forms/autumn?published=3")).await;
    assert!(page.text.contains("Published version 3"));
    assert!(page.text.contains("rollback to 1"));
}

crate::on_both_stores!(
    forms_are_created_from_the_preset_or_a_copy,
    a_publish_is_written_and_served_at_once,
    an_invalid_config_is_refused_with_the_engines_path,
    a_publish_from_a_stale_version_is_409,
    two_publishes_from_one_version_at_once_record_one,
    a_rollback_publishes_the_old_config_as_a_new_version,
    a_hand_edit_becomes_a_version_at_start,
    a_hand_edit_while_running_becomes_a_version,
    a_lead_records_the_version_it_was_scored_with,
    the_impact_of_a_draft_counts_grade_changes,
    the_impact_reads_the_newest_10000_leads_at_most,
    changes_need_the_admin_and_the_inbox_itself,
    the_forms_pages_create_show_and_roll_back,
);

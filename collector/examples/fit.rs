//! The fit's benchmark: how long fitting takes for 10,000 and 100,000 synthetic leads (the
//! counts can be given as arguments), and the report of the first.
//!
//! `cargo run --release -p bantam-collector --example fit [COUNT...]`
//!
//! `... --example fit -- --csv COUNT DIR` instead writes `COUNT` synthetic leads as a CRM
//! history (`DIR/leads.csv`, in the format `bantam-collector import` reads) and their form
//! (`DIR/forms/synthetic.json`), so `scripts/dev bench-fit` can time the command line's import and
//! fit on stored leads.

use std::fmt::Write as _;
use std::time::Instant;

use bantam_collector::fit::{fit, synthetic, FitOptions, Outcome};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--csv") {
        let [_, count, dir] = args.as_slice() else {
            panic!("usage: --csv COUNT DIR");
        };
        write_history(count.parse().expect("a lead count"), dir.as_ref());
        return;
    }
    let counts: Vec<usize> = args
        .iter()
        .map(|a| a.parse().expect("a lead count"))
        .collect();
    let counts = if counts.is_empty() {
        vec![10_000, 100_000]
    } else {
        counts
    };
    for (i, &n) in counts.iter().enumerate() {
        let (form, outcomes, _) = synthetic::leads(n, 1);
        let started = Instant::now();
        let report =
            fit(&form, &outcomes, &FitOptions::default()).expect("the synthetic leads fit");
        let took = started.elapsed();
        if i == 0 {
            println!("{}", report.to_text());
        }
        println!(
            "fit of {n} leads ({} features, penalty {}): {:.2} s",
            report.points.len(),
            report.lambda,
            took.as_secs_f64()
        );
    }
}

/// The question ids of the synthetic form, in the CSV's column order.
const QUESTIONS: [&str; 5] = ["email", "budget", "role", "seats", "need"];

/// Writes `n` synthetic leads as an import file and the form they answer.
fn write_history(n: usize, dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("forms")).expect("create the folder");
    let config = serde_json::to_string_pretty(&synthetic::config()).expect("JSON");
    std::fs::write(dir.join("forms/synthetic.json"), config).expect("write the form");
    let (_, outcomes, _) = synthetic::leads(n, 1);
    let mut csv = format!("id,date,outcome,page_url,{}\n", QUESTIONS.join(","));
    for lead in &outcomes {
        row(&mut csv, lead);
    }
    std::fs::write(dir.join("leads.csv"), csv).expect("write the history");
}

/// One lead as a CSV line: its answers as the import reads them (a number as digits, an
/// option by id), a question never asked as an empty cell.
fn row(out: &mut String, lead: &Outcome) {
    let doc = &lead.lead;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    };
    let _ = write!(
        out,
        "{},{},{},{}",
        text(&doc["id"]),
        lead.at,
        lead.status,
        text(&doc["page"]["url"])
    );
    for id in QUESTIONS {
        let _ = write!(out, ",{}", text(&doc["answers"][id]));
    }
    out.push('\n');
}

//! The fit's benchmark: how long fitting takes for 10,000 and 100,000 synthetic leads (the
//! counts can be given as arguments), and the report of the first.
//!
//! `cargo run --release -p bantam-collector --example fit [COUNT...]`

use std::time::Instant;

use bantam_collector::fit::{fit, synthetic, FitOptions};

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
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

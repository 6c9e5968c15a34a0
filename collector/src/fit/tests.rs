//! The fit on synthetic leads with known weights, leakage, degenerate data, determinism.

use super::synthetic::{self, WEIGHTS};
use super::*;
use serde_json::json;

/// The fit of `n` synthetic leads with default options.
fn fitted(n: usize, seed: u64) -> (FitReport, Vec<Outcome>, Vec<f64>) {
    let (form, outcomes, logits) = synthetic::leads(n, seed);
    let report = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    (report, outcomes, logits)
}

fn weight_of(report: &FitReport, label: &str) -> f64 {
    report
        .points
        .iter()
        .find(|c| c.feature.label == label)
        .unwrap_or_else(|| panic!("no feature {label}"))
        .weight
}

#[test]
fn the_fit_recovers_the_generating_weights_and_ranks_as_well_as_they_do() {
    let (report, outcomes, logits) = fitted(8000, 7);
    assert_eq!((report.train, report.holdout), (5600, 2400));
    // Within each question or input, the fitted weights come in the generating order (they are
    // known up to a constant per question: one of its options is always chosen).
    let groups: [&[&str]; 7] = [
        &["Budget None", "Budget Small", "Budget Mid", "Budget Big"],
        &["Role Student", "Role Advises", "Role Decides"],
        &["Need not answered", "Need Later", "Need Urgent"],
        &["Seats 1–9", "Seats 10–99", "Seats 100+"],
        &[
            "utmSource none",
            "utmSource google",
            "utmSource newsletter",
            "utmSource linkedin",
        ],
        &["clickId no", "clickId yes"],
        &["emailKind free", "emailKind business"],
    ];
    for group in groups {
        let fitted: Vec<f64> = group.iter().map(|l| weight_of(&report, l)).collect();
        assert!(
            fitted.windows(2).all(|w| w[0] < w[1]),
            "{group:?}: fitted {fitted:?}"
        );
        // And their spread matches: the differences within a question are the true ones.
        let truth = |l: &str| {
            WEIGHTS
                .iter()
                .find(|(w, _)| *w == l)
                .map_or(0.0, |(_, w)| *w)
        };
        let (first, last) = (group[0], group[group.len() - 1]);
        let want = truth(last) - truth(first);
        let got = weight_of(&report, last) - weight_of(&report, first);
        assert!(
            (got - want).abs() < 0.3,
            "{group:?}: spread {got:.2}, generated {want:.2}"
        );
    }
    // The proposed points rank the newer leads within 0.01 of the generating model.
    let newer: Vec<usize> = (outcomes.len() - report.holdout..outcomes.len()).collect();
    let y: Vec<bool> = newer.iter().map(|&i| outcomes[i].status == "won").collect();
    let truth = auc(&newer.iter().map(|&i| logits[i]).collect::<Vec<_>>(), &y);
    assert!(
        (report.proposed.auc - truth.auc).abs() <= 0.01,
        "proposed {:.4}, generating model {:.4}",
        report.proposed.auc,
        truth.auc
    );
    assert!((report.model.auc - truth.auc).abs() <= 0.01);
    assert!(
        report.proposed.low < report.proposed.auc && report.proposed.auc < report.proposed.high
    );
    // The form's own points know nothing of sources, clicks or email kinds: the fit does better.
    assert!(report.difference.low > 0.0, "{:?}", report.difference);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn points_offset_and_grades_follow_the_weights_and_the_goal() {
    let (report, outcomes, _) = fitted(3000, 11);
    for change in &report.points {
        if change.leads > 0 {
            assert_eq!(
                change.proposed,
                (change.weight * 5.0).round() as i32,
                "{}",
                change.feature.label
            );
        }
    }
    // Budget Big: 1.5 log-odds, about 7 points (up to the constant of its question).
    let big = report
        .points
        .iter()
        .find(|c| c.feature.label == "Budget Big")
        .unwrap();
    assert_eq!(big.feature.current, 30);
    let names: Vec<&str> = report.thresholds.iter().map(|(g, _)| g.as_str()).collect();
    assert_eq!(names, ["hot", "warm", "cold"]);
    let mins: Vec<u8> = report.thresholds.iter().map(|(_, m)| *m).collect();
    assert!(
        mins[0] > mins[1] && mins[1] > mins[2] && mins[2] == 0,
        "{mins:?}"
    );
    // The default goal puts the best-scored fifth of the older leads in the hot grade.
    let hot = &report.grades_proposed[0];
    let share = hot.leads as f64 / report.holdout as f64;
    assert!(
        (0.1..0.35).contains(&share),
        "hot holds {share:.2} of the newer leads"
    );
    assert!(hot.rate() > report.grades_proposed[2].rate());
    let converts = fit(
        &synthetic::form(),
        &outcomes,
        &FitOptions {
            goal: GradeGoal::Converts(0.6),
            ..FitOptions::default()
        },
    )
    .unwrap();
    assert!(
        converts.grades_proposed[0].rate() > 0.45,
        "{:?}",
        converts.grades_proposed[0]
    );
    // The reliability table covers every newer lead, and its rates rise with the score.
    let banded: usize = report.reliability.iter().map(|b| b.leads).sum();
    assert_eq!(banded, report.holdout);
    let rates: Vec<f64> = report
        .reliability
        .iter()
        .filter(|b| b.leads >= 100)
        .map(Bucket::rate)
        .collect();
    assert!(rates.windows(2).all(|w| w[0] < w[1] + 0.05), "{rates:?}");
    let text = report.to_text();
    assert!(text.contains("Budget Big: +30 -> +"), "{text}");
    assert!(
        text.contains("current points") && text.contains("Grades: hot >= "),
        "{text}"
    );
}

#[test]
fn nothing_recorded_after_the_lead_arrived_enters_the_fit() {
    let (form, outcomes, _) = synthetic::leads(600, 3);
    let clean = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    // A store may keep the sales status and its time in the document, and a score that
    // already knows the outcome: none of it may change the features or the fit.
    let leaky: Vec<Outcome> = outcomes
        .iter()
        .map(|o| {
            let mut lead = o.lead.clone();
            let won = o.status == "won";
            lead["status"] = json!(o.status);
            lead["statusAt"] = json!("2026-12-01T00:00:00.000Z");
            lead["sales"] = json!({"status": o.status, "at": "2026-12-01T00:00:00.000Z"});
            lead["score"]["total"] = json!(if won { 100 } else { 0 });
            lead["score"]["grade"] = json!(if won { "hot" } else { "cold" });
            Outcome { lead, ..o.clone() }
        })
        .collect();
    let leaked = fit(&form, &leaky, &FitOptions::default()).unwrap();
    assert_eq!(leaked, clean);
    // The features of one lead are the same with or without those fields.
    let lead: LeadDocument = serde_json::from_value(outcomes[0].lead.clone()).unwrap();
    let tagged: LeadDocument = serde_json::from_value(leaky[0].lead.clone()).unwrap();
    let answers = Answers::from_lead(&form, &lead).unwrap();
    let space = Features::build(&form, &[(lead.clone(), answers.clone())], 1);
    assert_eq!(
        space.row(&form, &tagged, &Answers::from_lead(&form, &tagged).unwrap()),
        space.row(&form, &lead, &answers)
    );
    // Only 600 outcomes: the report says so, plainly.
    assert!(clean.warnings.is_empty());
    let (form, few, _) = synthetic::leads(120, 5);
    let report = fit(&form, &few, &FitOptions::default()).unwrap();
    assert!(
        report.warnings[0].starts_with("only 120 leads have an outcome"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn degenerate_data_gives_clear_errors() {
    let (form, outcomes, _) = synthetic::leads(400, 9);
    let options = FitOptions::default();
    let with = |status: &dyn Fn(usize) -> &'static str| -> Vec<Outcome> {
        outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| Outcome {
                status: status(i).to_owned(),
                ..o.clone()
            })
            .collect()
    };
    let err = fit(&form, &outcomes[..49], &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "49 leads have a won/lost outcome; a fit needs at least 50"
    );
    // Accepted and rejected leads are no outcome for won/lost, and the other way round.
    let accepted = with(&|i| if i % 2 == 0 { "accepted" } else { "rejected" });
    assert!(matches!(
        fit(&form, &accepted, &options),
        Err(FitError::TooFew { rows: 0, .. })
    ));
    let taken = FitOptions {
        target: Target::Accepted,
        ..options
    };
    assert!(fit(&form, &accepted, &taken).is_ok());
    let err = fit(&form, &with(&|_| "lost"), &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "every lead with an outcome did not convert: there is nothing to learn from"
    );
    let err = fit(
        &form,
        // The older 280 all won; only the newer ones were ever lost.
        &with(&|i| if i < 280 || i % 2 == 0 { "won" } else { "lost" }),
        &options,
    )
    .unwrap_err();
    assert_eq!(
        err,
        FitError::OneClass {
            part: "older",
            class: "converted"
        }
    );
    // Every lead the same: nothing varies.
    let same: Vec<Outcome> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| Outcome {
            lead: outcomes[0].lead.clone(),
            status: if i % 3 == 0 { "won" } else { "lost" }.to_owned(),
            at: o.at.clone(),
        })
        .collect();
    assert_eq!(
        fit(&form, &same, &options).unwrap_err(),
        FitError::NoVariation
    );
}

#[test]
fn the_same_data_gives_the_same_fit() {
    let (form, outcomes, _) = synthetic::leads(1500, 21);
    let a = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    // The same leads handed over in another order: the arrival time orders them.
    let mut shuffled = outcomes.clone();
    shuffled.reverse();
    let b = fit(&form, &shuffled, &FitOptions::default()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_text(), b.to_text());
}

#[test]
fn auc_and_delong_intervals_match_hand_computed_values() {
    // Positives 3, 2; negatives 1, 2: pairs (3>1, 3>2, 2>1, 2=2) give (1 + 1 + 1 + 0.5) / 4.
    let a = auc(&[3.0, 2.0, 1.0, 2.0], &[true, true, false, false]);
    assert!((a.auc - 0.875).abs() < 1e-12);
    assert!(a.low < 0.875 && a.high <= 1.0);
    let perfect = auc(&[0.9, 0.8, 0.1, 0.2], &[true, true, false, false]);
    assert_eq!((perfect.auc, perfect.low, perfect.high), (1.0, 1.0, 1.0));
    let same = auc_difference(&[3.0, 2.0, 1.0], &[3.0, 2.0, 1.0], &[true, false, false]);
    assert_eq!((same.auc, same.low, same.high), (0.0, 0.0, 0.0));
}

#[test]
fn newton_matches_a_closed_form_logistic_fit() {
    // One binary feature, no penalty: the fit reproduces the two groups' log-odds exactly.
    let rows: Vec<Vec<u32>> = (0..40)
        .map(|i| if i < 20 { vec![0] } else { vec![] })
        .collect();
    // Group with the feature: 15 of 20 convert; without: 5 of 20.
    let y: Vec<bool> = (0..40)
        .map(|i| if i < 20 { i % 4 != 0 } else { i % 4 == 0 })
        .collect();
    let at: Vec<usize> = (0..40).collect();
    let beta = fit_logistic(&rows, &y, &at, 1, 0.0, None);
    let without = (5.0f64 / 15.0).ln();
    let with = (15.0f64 / 5.0).ln();
    assert!((beta[0] - without).abs() < 1e-9, "{beta:?}");
    assert!((beta[0] + beta[1] - with).abs() < 1e-9, "{beta:?}");
    // A penalty shrinks the weight, never the intercept's freedom.
    let shrunk = fit_logistic(&rows, &y, &at, 1, 1.0, None);
    assert!(shrunk[1].abs() < beta[1].abs());
}

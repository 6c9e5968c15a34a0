//! Property tests of the scoring and profiling invariants.

use bantam_engine::{next_questions, parse_config, score, Answers, Form, Input, Kind};
use proptest::prelude::*;
use serde_json::json;

fn bant() -> Form {
    parse_config(json!({ "formId": "p", "preset": "bant", "maxQuestionsPerVisit": 4 })).unwrap()
}

fn all_kinds() -> Form {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/configs/all-kinds.json"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    parse_config(json).unwrap()
}

/// A valid answer for question `index` picked by `seed`, or none when `seed` says so.
fn answer(form: &Form, answers: &mut Answers, index: usize, seed: u32) {
    let q = &form.questions[index];
    if seed % 4 == 0 {
        return;
    }
    let result = match &q.kind {
        Kind::SingleChoice(c) | Kind::YesNo(c) => answers.set(
            form,
            &q.id,
            Input::Checked(vec![c[seed as usize % c.len()].id.clone()]),
        ),
        Kind::MultipleChoice(c) => {
            let picked = c
                .iter()
                .enumerate()
                .filter(|(i, _)| seed >> i & 1 == 1)
                .map(|(_, c)| c.id.clone())
                .collect();
            answers.set(form, &q.id, Input::Checked(picked))
        }
        Kind::Number { min, max, .. } => {
            let n = (min + f64::from(seed % 1000)).min(*max);
            answers.set(form, &q.id, Input::Text(&n.to_string()))
        }
        Kind::Email => answers.set(form, &q.id, Input::Text("a@b.co")),
        Kind::Phone => answers.set(form, &q.id, Input::Text("+1 555 123 4567")),
        Kind::Text => answers.set(form, &q.id, Input::Text("x")),
        Kind::Consent => answers.set(form, &q.id, Input::Flag(true)),
    };
    // Required empty inputs may be refused; that simply leaves the question unanswered.
    let _ = result;
}

fn answers_for(form: &Form, seeds: &[u32]) -> Answers {
    let mut answers = Answers::new();
    for (index, seed) in seeds.iter().enumerate().take(form.questions.len()) {
        answer(form, &mut answers, index, *seed);
    }
    answers
}

/// A form of `points.len()` single-choice questions without conditions, options worth
/// `points[i]`, categories spread over the five scoring categories.
fn generated_form(points: &[Vec<u16>], weights: &[u32; 5]) -> Form {
    let categories = ["budget", "authority", "need", "timeframe", "fit"];
    let questions: Vec<_> = points
        .iter()
        .enumerate()
        .map(|(i, options)| {
            json!({
                "id": format!("q{i}"),
                "kind": "singleChoice",
                "label": format!("Q{i}"),
                "category": categories[i % 5],
                "options": options.iter().enumerate()
                    .map(|(k, p)| json!({ "id": format!("o{k}"), "label": format!("O{k}"), "points": p }))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let weights = json!({
        "budget": weights[0], "authority": weights[1], "need": weights[2], "timeframe": weights[3], "fit": weights[4] + 1
    });
    parse_config(json!({ "formId": "g", "questions": questions, "weights": weights })).unwrap()
}

fn pick(form: &Form, answers: &mut Answers, question: usize, option: usize) {
    let q = &form.questions[question];
    let id = q.kind.choices()[option % q.kind.choices().len()].id.clone();
    answers.set(form, &q.id, Input::Checked(vec![id])).unwrap();
}

proptest! {
    #[test]
    fn totals_stay_within_0_to_100_and_are_deterministic(seeds in prop::collection::vec(any::<u32>(), 12)) {
        for form in [bant(), all_kinds()] {
            let answers = answers_for(&form, &seeds);
            let first = score(&form, &answers);
            prop_assert!(first.total <= 100);
            prop_assert!(form.grade_index(&first.grade).is_some());
            for part in first.breakdown.values() {
                prop_assert!(part.score <= 100);
            }
            prop_assert_eq!(&first, &score(&form, &answers));
        }
    }

    #[test]
    fn answering_one_more_question_never_lowers_the_total(
        points in prop::collection::vec(prop::collection::vec(0u16..100, 1..5), 1..10),
        weights in prop::array::uniform5(0u32..50),
        chosen in prop::collection::vec(any::<Option<u8>>(), 10),
        extra in any::<usize>(),
        extra_option in any::<u8>(),
    ) {
        let form = generated_form(&points, &weights);
        let mut answers = Answers::new();
        for (q, option) in chosen.iter().enumerate().take(form.questions.len()) {
            if let Some(option) = option {
                pick(&form, &mut answers, q, usize::from(*option));
            }
        }
        let before = score(&form, &answers).total;
        let q = extra % form.questions.len();
        if !answers.contains(&form.questions[q].id) {
            pick(&form, &mut answers, q, usize::from(extra_option));
            prop_assert!(score(&form, &answers).total >= before);
        }
    }

    #[test]
    fn raising_the_points_of_a_chosen_option_never_lowers_the_total(
        points in prop::collection::vec(prop::collection::vec(0u16..100, 1..5), 1..10),
        weights in prop::array::uniform5(0u32..50),
        chosen in prop::collection::vec(any::<u8>(), 10),
        which in any::<usize>(),
        raise in 1u16..100,
    ) {
        let answer_all = |form: &Form| {
            let mut answers = Answers::new();
            for (q, option) in chosen.iter().enumerate().take(form.questions.len()) {
                pick(form, &mut answers, q, usize::from(*option));
            }
            answers
        };
        let form = generated_form(&points, &weights);
        let before = score(&form, &answer_all(&form)).total;
        let q = which % points.len();
        let option = usize::from(chosen[q]) % points[q].len();
        let mut raised = points.clone();
        raised[q][option] += raise;
        let form = generated_form(&raised, &weights);
        prop_assert!(score(&form, &answer_all(&form)).total >= before);
    }

    #[test]
    fn a_known_answer_is_never_asked_again(seeds in prop::collection::vec(any::<u32>(), 12)) {
        for form in [bant(), all_kinds()] {
            let known = answers_for(&form, &seeds);
            let chosen = next_questions(&form, &known);
            prop_assert!(chosen.len() <= form.max_questions_per_visit);
            prop_assert!(chosen.windows(2).all(|w| w[0] < w[1]), "form order, no repeats");
            for &i in &chosen {
                prop_assert!(!known.contains(&form.questions[i].id), "{} was asked again", form.questions[i].id);
            }
            // Across visits: answering what is asked eventually asks nothing new.
            let mut answers = known.clone();
            for visit in 0..20 {
                let asked = next_questions(&form, &answers);
                if asked.is_empty() { break; }
                for &i in &asked {
                    prop_assert!(!answers.contains(&form.questions[i].id));
                    answer(&form, &mut answers, i, seeds[visit % seeds.len()] | 1);
                }
            }
        }
    }
}

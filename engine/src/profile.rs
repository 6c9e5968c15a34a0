//! Progressive profiling: which questions to ask on this visit.

use crate::answer::Answers;
use crate::form::{Category, Form};
use crate::map::sorted_indices;
use crate::prelude::*;

/// Chooses the questions to ask now, as indices into [`Form::questions`] in display order.
///
/// Rules, in order:
/// - a question with a known answer is never asked again;
/// - unknown contact questions are chosen first, then the rest by `priority` (lower first,
///   ties in form order), at most `maxQuestionsPerVisit` in all;
/// - a question whose `showIf` looks at a known answer is chosen only if the condition holds;
///   one whose condition looks at an unknown question is chosen only if that question is
///   chosen first (the widget then shows or hides it live).
///
/// The result is in form order, so a condition's question always comes before it.
pub fn next_questions(form: &Form, known: &Answers) -> Vec<usize> {
    // Plain loops, not `collect`: each collect of another iterator type is another copy of
    // the standard library's collecting code in the widget.
    let mut unknown = Vec::new();
    for (i, q) in form.questions.iter().enumerate() {
        if !known.contains(&q.id) {
            unknown.push(i);
        }
    }
    // The engine's own merge sort (stable, so ties keep form order): the standard library's
    // sorts cost several kilobytes of wasm that every visitor downloads, and an insertion sort
    // was quadratic for priorities in reverse order.
    let key = |i: usize| {
        let q = &form.questions[i];
        (q.category != Category::Contact, q.priority)
    };
    let mut candidates = Vec::with_capacity(unknown.len());
    for at in sorted_indices(unknown.len(), &|a, b| key(unknown[a]) < key(unknown[b])) {
        candidates.push(unknown[at]);
    }

    // Chosen questions by index, and how many.
    let mut chosen = vec![false; form.questions.len()];
    let mut count = 0;
    // Questions whose condition looks at an unknown question not chosen yet, by that question.
    let mut waiting: Vec<(usize, usize)> = Vec::new();
    let mut queue: Vec<usize> = Vec::new();
    for i in candidates {
        queue.push(i);
        while let Some(i) = queue.pop() {
            if count >= form.max_questions_per_visit {
                break;
            }
            if let Some(condition) = &form.questions[i].show_if {
                let target = condition.question();
                let target_known = known.contains(&form.questions[target].id);
                if !target_known && !chosen[target] {
                    // Decide once the target is chosen; if it never is, the visitor cannot
                    // answer it now, so only "not answered" conditions hold.
                    if form.is_visible(i, known) {
                        choose(&mut chosen, &mut count, i);
                    } else {
                        waiting.push((target, i));
                    }
                    continue;
                }
                // A condition on a question asked in this visit is left to the widget, which
                // shows or hides the question live; it still takes a place in the limit.
                if target_known && !form.is_visible(i, known) {
                    continue;
                }
            }
            choose(&mut chosen, &mut count, i);
            waiting.retain(|&(target, dependent)| {
                let ready = target == i;
                if ready {
                    queue.push(dependent);
                }
                !ready
            });
        }
    }
    let mut out = Vec::with_capacity(count);
    for (i, &yes) in chosen.iter().enumerate() {
        if yes {
            out.push(i);
        }
    }
    out
}

/// Marks question `i` chosen, counting it once.
fn choose(chosen: &mut [bool], count: &mut usize, i: usize) {
    if !chosen[i] {
        chosen[i] = true;
        *count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Input;

    fn form(json: &str) -> Form {
        let config = crate::config::test_config(json).unwrap();
        Form::from_config(config).unwrap()
    }

    fn ids(form: &Form, chosen: &[usize]) -> Vec<String> {
        chosen
            .iter()
            .map(|&i| form.questions[i].id.clone())
            .collect()
    }

    fn check(form: &Form, known: &[(&str, Input<'_>)], expected: &[&str]) {
        let mut answers = Answers::new();
        for (id, input) in known {
            answers.set(form, id, input.clone()).unwrap();
        }
        assert_eq!(
            ids(form, &next_questions(form, &answers)),
            expected,
            "known {known:?}"
        );
    }

    #[test]
    fn first_visit_asks_contact_then_by_priority() {
        let form = form(r#"{"formId":"t","preset":"bant"}"#);
        check(
            &form,
            &[],
            &["email", "company", "budget", "role", "timeframe", "consent"],
        );
    }

    #[test]
    fn second_visit_asks_only_what_is_unknown() {
        let form = form(r#"{"formId":"t","preset":"bant"}"#);
        check(
            &form,
            &[
                ("email", Input::Text("a@b.co")),
                ("company", Input::Text("Acme")),
                ("consent", Input::Flag(true)),
                ("budget", Input::Checked(vec!["10k-50k".into()])),
                ("role", Input::Checked(vec!["influencer".into()])),
                ("timeframe", Input::Checked(vec!["later".into()])),
            ],
            &["need", "headcount"],
        );
    }

    #[test]
    fn nothing_left_asks_nothing() {
        let form = form(r#"{"formId":"t","questions":[{"id":"a","kind":"text","label":"A"}]}"#);
        check(&form, &[("a", Input::Text("x"))], &[]);
    }

    #[test]
    fn the_limit_applies_and_contact_comes_first() {
        let form = form(
            r#"{"formId":"t","maxQuestionsPerVisit":2,"questions":[
                {"id":"a","kind":"yesNo","label":"A","priority":1},
                {"id":"b","kind":"yesNo","label":"B","priority":0},
                {"id":"mail","kind":"email","label":"Mail"}
            ]}"#,
        );
        check(&form, &[], &["b", "mail"]);
        check(&form, &[("mail", Input::Text("a@b.co"))], &["a", "b"]);
    }

    #[test]
    fn conditions_on_known_answers_are_decided_now() {
        let json = r#"{"formId":"t","questions":[
                {"id":"student","kind":"yesNo","label":"Student?"},
                {"id":"school","kind":"text","label":"School","showIf":{"question":"student","equals":"yes"}},
                {"id":"size","kind":"number","label":"Size"}
            ]}"#;
        let form = form(json);
        check(&form, &[], &["student", "school", "size"]);
        check(
            &form,
            &[("student", Input::Checked(vec!["no".into()]))],
            &["size"],
        );
        check(
            &form,
            &[("student", Input::Checked(vec!["yes".into()]))],
            &["school", "size"],
        );
    }

    #[test]
    fn a_condition_on_an_unchosen_question_is_left_for_later() {
        let form = form(
            r#"{"formId":"t","maxQuestionsPerVisit":1,"questions":[
                {"id":"a","kind":"yesNo","label":"A","priority":5},
                {"id":"b","kind":"text","label":"B","priority":1,"showIf":{"question":"a","answered":true}}
            ]}"#,
        );
        // b has the better priority, but its condition cannot hold without a.
        check(&form, &[], &["a"]);
    }
}

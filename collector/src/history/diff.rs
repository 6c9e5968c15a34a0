//! A readable list of the changes between two versions of a form's config, from the two JSON
//! trees: `questions[budget].options[2].points: 25 → 41`, `questions[timeline] added`.
//!
//! Arrays of objects that all carry a text `id` (questions) or `name` (grades) are compared
//! by it, so a question moved or inserted reads as that, not as every later question
//! changed; other arrays are compared position by position.

use serde_json::{Map, Value};

/// The changes from `old` to `new`, one line each, in the order of the config.
pub(crate) fn diff(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

/// Longest a value is shown in a line; longer ones end in `…`.
const SHOWN_CHARS: usize = 80;

/// A value as one short line of JSON.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= SHOWN_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(SHOWN_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn field(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn root(path: &str) -> &str {
    if path.is_empty() {
        "(the config)"
    } else {
        path
    }
}

/// The keys of an array whose items are all objects with a text `id` (questions), or else all
/// with a text `name` (grades), and no key twice.
fn ids(items: &[Value]) -> Option<Vec<&str>> {
    let by = |key: &str| -> Option<Vec<&str>> {
        items
            .iter()
            .map(|item| item.get(key).and_then(Value::as_str))
            .collect()
    };
    let ids = by("id").or_else(|| by("name"))?;
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == ids.len() && !ids.is_empty()).then_some(ids)
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => objects(path, a, b, out),
        (Value::Array(a), Value::Array(b)) => match (ids(a), ids(b)) {
            (Some(old_ids), Some(new_ids)) => keyed(path, a, &old_ids, b, &new_ids, out),
            _ => positional(path, a, b, out),
        },
        _ if old == new => {}
        _ => out.push(format!("{}: {} → {}", root(path), short(old), short(new))),
    }
}

fn objects(path: &str, a: &Map<String, Value>, b: &Map<String, Value>, out: &mut Vec<String>) {
    for (key, old) in a {
        let at = field(path, key);
        match b.get(key) {
            Some(new) => walk(&at, old, new, out),
            None => out.push(format!("{at} removed (was {})", short(old))),
        }
    }
    for (key, new) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
        out.push(format!("{} added: {}", field(path, key), short(new)));
    }
}

fn keyed(
    path: &str,
    a: &[Value],
    old_ids: &[&str],
    b: &[Value],
    new_ids: &[&str],
    out: &mut Vec<String>,
) {
    let at = |id: &str| format!("{}[{id}]", root(path));
    for (item, id) in a.iter().zip(old_ids) {
        match new_ids.iter().position(|n| n == id) {
            Some(i) => walk(&at(id), item, &b[i], out),
            None => out.push(format!("{} removed", at(id))),
        }
    }
    for id in new_ids.iter().filter(|id| !old_ids.contains(id)) {
        out.push(format!("{} added", at(id)));
    }
    let kept_old: Vec<&&str> = old_ids.iter().filter(|id| new_ids.contains(id)).collect();
    let kept_new: Vec<&&str> = new_ids.iter().filter(|id| old_ids.contains(id)).collect();
    if kept_old != kept_new {
        let list = |ids: &[&&str]| ids.iter().map(|s| **s).collect::<Vec<_>>().join(", ");
        out.push(format!(
            "{} order: {} → {}",
            root(path),
            list(&kept_old),
            list(&kept_new)
        ));
    }
}

fn positional(path: &str, a: &[Value], b: &[Value], out: &mut Vec<String>) {
    let scalars = |items: &[Value]| items.iter().all(|v| !v.is_object() && !v.is_array());
    if scalars(a) && scalars(b) {
        if a != b {
            out.push(format!(
                "{}: {} → {}",
                root(path),
                short(&Value::Array(a.to_vec())),
                short(&Value::Array(b.to_vec()))
            ));
        }
        return;
    }
    let at = |i: usize| format!("{}[{i}]", root(path));
    for (i, pair) in a.iter().zip(b).enumerate() {
        walk(&at(i), pair.0, pair.1, out);
    }
    for (i, old) in a.iter().enumerate().skip(b.len()) {
        out.push(format!("{} removed (was {})", at(i), short(old)));
    }
    for (i, new) in b.iter().enumerate().skip(a.len()) {
        out.push(format!("{} added: {}", at(i), short(new)));
    }
}

#[cfg(test)]
mod tests {
    use super::diff;
    use serde_json::json;

    fn check(old: serde_json::Value, new: serde_json::Value, expected: &[&str]) {
        assert_eq!(diff(&old, &new), expected);
    }

    #[test]
    fn the_same_config_has_no_changes() {
        let config = json!({ "formId": "a", "preset": "bant", "theme": { "accent": "#000" } });
        check(config.clone(), config, &[]);
    }

    #[test]
    fn options_by_position_inside_questions_by_id() {
        let question = |points: i64| {
            json!({ "id": "budget", "kind": "single", "options": [
                { "value": "a", "points": 0 }, { "value": "b", "points": 10 },
                { "value": "c", "points": points } ] })
        };
        check(
            json!({ "questions": [question(25)] }),
            json!({ "questions": [question(41)] }),
            &["questions[budget].options[2].points: 25 → 41"],
        );
    }

    #[test]
    fn questions_added_removed_and_moved_are_named() {
        let q = |id: &str| json!({ "id": id, "label": id.to_uppercase() });
        check(
            json!({ "questions": [q("email"), q("budget"), q("size")] }),
            json!({ "questions": [q("budget"), q("email"), q("timeline")] }),
            &[
                "questions[size] removed",
                "questions[timeline] added",
                "questions order: email, budget → budget, email",
            ],
        );
    }

    #[test]
    fn fields_added_removed_and_changed_with_their_values() {
        check(
            json!({ "formId": "a", "grades": { "hot": 70 }, "locale": "en" }),
            json!({ "formId": "a", "grades": { "hot": 60, "warm": 30 }, "theme": "dark" }),
            &[
                "grades.hot: 70 → 60",
                "grades.warm added: 30",
                "locale removed (was \"en\")",
                "theme added: \"dark\"",
            ],
        );
    }

    #[test]
    fn lists_of_plain_values_read_as_one_change_and_long_values_are_cut() {
        check(
            json!({ "locales": ["en", "fr"] }),
            json!({ "locales": ["en", "de"] }),
            &["locales: [\"en\",\"fr\"] → [\"en\",\"de\"]"],
        );
        let long = "x".repeat(200);
        let lines = diff(&json!({ "a": 1 }), &json!({ "a": long }));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("a: 1 → \"xxx"), "{}", lines[0]);
        assert!(lines[0].ends_with('…') && lines[0].chars().count() < 100);
    }

    #[test]
    fn grades_are_keyed_by_name() {
        let grades = |hot: i64| json!({ "grades": [{ "name": "hot", "min": hot }, { "name": "cold", "min": 0 }] });
        check(grades(70), grades(60), &["grades[hot].min: 70 → 60"]);
    }

    #[test]
    fn a_whole_new_tree_and_type_changes() {
        check(json!(1), json!("1"), &["(the config): 1 → \"1\""]);
        check(
            json!({ "items": [{ "n": 1 }, { "n": 2 }] }),
            json!({ "items": [{ "n": 1 }] }),
            &["items[1] removed (was {\"n\":2})"],
        );
    }
}

//! The compiled form: validated [`Form`]s as compact JSON (positional arrays), and the small
//! reader that takes one back without the config reader, the validator or the preset.
//!
//! A collector compiles the configs it has validated, one form per language the config can be
//! shown in; a widget that reads only compiled forms ships none of the validation code. The
//! reader checks what later code relies on (shapes, indices of conditions and grade caps in
//! range, six weights, a last grade at 0) and nothing a validated form already guarantees:
//! anything else it rejects as not a compiled form.
//!
//! The document: `["bantam-form/1", form, …]`, each form an array that starts with its locale.

use crate::prelude::*;
use core::cell::Cell;

use crate::context::{SpamAction, SpamRules};
use crate::delivery::{Band, Delivery, Format, ValueMap};
use crate::form::{
    Category, Choice, Condition, Direction, Form, Grade, Kind, Question, Range, Scoring, Signal,
    SignalInput, ThankYou, ThankYouLink,
};
use crate::map::Map;
use crate::texts::{resolve, Texts};
use crate::value::{JsonWriter, Value};

/// The first item of a compiled form, and its format version.
pub const COMPILED_TAG: &str = "bantam-form/1";

/// The compiled document of a config shown in `forms[0].locales`: the same config validated
/// for each of those locales (`forms[0]` for none in particular, as [`Form::from_config`] gives
/// it), for [`Form::from_compiled_for`].
pub fn compile(forms: &[&Form]) -> String {
    let mut w = JsonWriter::new();
    w.begin_array(None);
    w.string(None, COMPILED_TAG);
    for form in forms {
        w.begin_array(None);
        write_form(&mut w, form);
        w.end_array();
    }
    w.end_array();
    w.finish()
}

/// Whether `value` says it is a compiled document (of any format version): an array whose
/// first item is `bantam-form/<version>`. A config never is.
pub fn is_compiled(value: &Value) -> bool {
    match value {
        Value::Array(items) => {
            matches!(items.first(), Some(Value::String(tag)) if tag.starts_with("bantam-form/"))
        }
        _ => false,
    }
}

impl Form {
    /// This form alone as a compiled document.
    pub fn to_compiled(&self) -> String {
        compile(&[self])
    }

    /// Reads the form of a compiled document ([`compile`]) for a page without language
    /// preferences: [`Form::from_compiled_for`] with none.
    ///
    /// # Errors
    /// As [`Form::from_compiled_for`].
    pub fn from_compiled(value: Value) -> Option<Form> {
        Form::from_compiled_for(value, &[])
    }

    /// Reads the form of a compiled document in the locale that a page whose languages are
    /// `preferred` gets (as [`Form::from_config_for`] picks it; the first form without a match).
    ///
    /// # Errors
    /// `None` when `value` is not a compiled document of this format version, or the chosen
    /// form's shapes or indices do not hold together.
    pub fn from_compiled_for(value: Value, preferred: &[&str]) -> Option<Form> {
        let bad = Cell::new(false);
        let mut r = Reader::of(value, &bad);
        if r.string() != COMPILED_TAG {
            return None;
        }
        // Loops, not `collect`s (each is a copy of the standard library's collecting code).
        let mut forms = Vec::new();
        let mut locales = Vec::new();
        for form in r.items {
            locales.push(match &form {
                Value::Array(items) => match items.first() {
                    Some(Value::String(locale)) => locale.clone(),
                    _ => String::new(),
                },
                _ => String::new(),
            });
            forms.push(form);
        }
        let chosen = resolve(&locales, preferred);
        let at = locales.iter().position(|l| l == chosen)?;
        // Taken out in place: `into_iter().nth()` is one more iterator copy in the widget.
        let form = core::mem::replace(forms.get_mut(at)?, Value::Null);
        let mut r = Reader::of(form, &bad);
        let form = read_form(&mut r);
        r.end();
        (!bad.get()).then_some(form)
    }
}

fn write_form(w: &mut JsonWriter, f: &Form) {
    w.string(None, &f.locale);
    w.string(None, &f.id);
    w.string(None, &f.endpoint);
    w.begin_array(None);
    for q in &f.questions {
        write_question(w, q);
    }
    w.end_array();
    w.begin_array(None);
    for weight in f.weights {
        w.int(None, i64::from(weight));
    }
    w.end_array();
    match f.scoring {
        Scoring::Shares => w.null(None),
        Scoring::Sum { offset } => w.int(None, i64::from(offset)),
    }
    w.begin_array(None);
    for s in &f.signals {
        w.begin_array(None);
        w.string(None, &s.id);
        w.int(None, s.input as i64);
        w.string(None, &s.short_label);
        w.int(None, s.category as i64);
        w.begin_array(None);
        for (value, points) in &s.values {
            w.string(None, value);
            w.int(None, i64::from(*points));
        }
        w.end_array();
        w.int(None, i64::from(s.other));
        w.int(None, i64::from(s.none));
        w.end_array();
    }
    w.end_array();
    w.begin_array(None);
    for g in &f.grades {
        w.string(None, &g.name);
        w.string(None, &g.label);
        w.int(None, i64::from(g.min));
    }
    w.end_array();
    w.int(None, f.max_questions_per_visit as i64);
    w.int(None, f.questions_per_step as i64);
    w.begin_array(None);
    for text in f.texts.fields() {
        w.string(None, text);
    }
    w.end_array();
    w.begin_array(None);
    for l in &f.locales {
        w.string(None, l);
    }
    w.end_array();
    w.bool(None, f.direction == Direction::Rtl);
    w.optional(None, f.title.as_deref());
    w.optional(None, f.intro.as_deref());
    write_thank_you(w, &f.thank_you);
    w.begin_array(None);
    for (grade, t) in &f.thank_you_by_grade {
        w.int(None, *grade as i64);
        write_thank_you(w, t);
    }
    w.end_array();
    w.begin_array(None);
    for (name, value) in &f.theme {
        w.string(None, name);
        w.string(None, value);
    }
    w.end_array();
    write_delivery(w, &f.delivery);
    w.bool(None, f.spam.honeypot);
    w.int(None, f.spam.min_fill_ms as i64);
    w.bool(None, f.spam.action == SpamAction::Drop);
    w.optional(None, f.variant.as_deref());
}

fn write_question(w: &mut JsonWriter, q: &Question) {
    w.begin_array(None);
    w.string(None, &q.id);
    w.string(None, &q.label);
    w.optional(None, q.help.as_deref());
    w.string(None, &q.short_label);
    w.int(None, q.category as i64);
    w.int(None, i64::from(q.priority));
    w.bool(None, q.required);
    match &q.show_if {
        None => w.null(None),
        Some(c) => {
            w.begin_array(None);
            match c {
                Condition::Answered(t, yes) => {
                    w.int(None, 0);
                    w.int(None, *t as i64);
                    w.bool(None, *yes);
                }
                Condition::OneOf(t, ids) | Condition::NoneOf(t, ids) => {
                    w.int(
                        None,
                        if matches!(c, Condition::OneOf(..)) {
                            1
                        } else {
                            2
                        },
                    );
                    w.int(None, *t as i64);
                    w.begin_array(None);
                    for id in ids {
                        w.string(None, id);
                    }
                    w.end_array();
                }
                Condition::AtLeast(t, n) | Condition::Below(t, n) => {
                    w.int(
                        None,
                        if matches!(c, Condition::AtLeast(..)) {
                            3
                        } else {
                            4
                        },
                    );
                    w.int(None, *t as i64);
                    w.number(None, *n);
                }
            }
            w.end_array();
        }
    }
    w.optional(None, q.placeholder.as_deref());
    w.int(None, q.max_length as i64);
    w.int(None, i64::from(q.points));
    w.int(None, i64::from(q.unanswered));
    let tag = match &q.kind {
        Kind::SingleChoice(_) => 0,
        Kind::MultipleChoice(_) => 1,
        Kind::YesNo(_) => 2,
        Kind::Number { .. } => 3,
        Kind::Text => 4,
        Kind::Email => 5,
        Kind::Phone => 6,
        Kind::Consent => 7,
    };
    w.int(None, tag);
    match &q.kind {
        Kind::Number { min, max, ranges } => {
            w.number(None, *min);
            w.number(None, *max);
            w.begin_array(None);
            for r in ranges {
                w.number(None, r.min);
                match r.max {
                    Some(max) => w.number(None, max),
                    None => w.null(None),
                }
                w.int(None, i64::from(r.points));
                w.string(None, &r.label);
                write_cap(w, r.cap_grade);
            }
            w.end_array();
        }
        kind => {
            w.begin_array(None);
            for c in kind.choices() {
                w.string(None, &c.id);
                w.string(None, &c.label);
                w.int(None, i64::from(c.points));
                write_cap(w, c.cap_grade);
            }
            w.end_array();
        }
    }
    w.end_array();
}

fn write_cap(w: &mut JsonWriter, cap: Option<usize>) {
    match cap {
        Some(g) => w.int(None, g as i64),
        None => w.null(None),
    }
}

fn write_thank_you(w: &mut JsonWriter, t: &ThankYou) {
    w.string(None, &t.title);
    w.string(None, &t.body);
    match &t.link {
        Some(link) => {
            w.begin_array(None);
            w.string(None, &link.text);
            w.string(None, &link.url);
            w.bool(None, link.new_tab);
            w.end_array();
        }
        None => w.null(None),
    }
    w.optional(None, t.embed_url.as_deref());
}

fn write_delivery(w: &mut JsonWriter, d: &Delivery) {
    w.int(None, d.format as i64);
    w.begin_array(None);
    for (id, name) in &d.fields {
        w.string(None, id);
        w.string(None, name);
    }
    w.end_array();
    w.begin_array(None);
    for (id, map) in &d.values {
        w.string(None, id);
        w.begin_array(None);
        match map {
            ValueMap::Options(options) => {
                w.int(None, 0);
                for (option, value) in options {
                    w.string(None, option);
                    w.string(None, value);
                }
            }
            ValueMap::Bands(bands) => {
                w.int(None, 1);
                for band in bands {
                    w.number(None, band.min);
                    w.string(None, &band.value);
                }
            }
        }
        w.end_array();
    }
    w.end_array();
    w.optional(None, d.score_field.as_deref());
    w.optional(None, d.grade_field.as_deref());
    w.optional(None, d.salesforce_oid.as_deref());
    w.optional(None, d.fallback.as_deref());
}

/// Reads the items of one array in order. A getter never stops the reading: on a missing
/// item or a wrong type it gives a default and marks the whole read as failed (`bad`, shared
/// with the readers of nested arrays), so the form is dropped once at the end instead of at
/// each of a hundred early returns (their clean-up code was most of the reader's size in the
/// widget).
struct Reader<'b> {
    items: alloc::vec::IntoIter<Value>,
    bad: &'b Cell<bool>,
}

impl<'b> Reader<'b> {
    fn of(value: Value, bad: &'b Cell<bool>) -> Reader<'b> {
        let items = match value {
            Value::Array(items) => items,
            _ => {
                bad.set(true);
                Vec::new()
            }
        };
        Reader {
            items: items.into_iter(),
            bad,
        }
    }

    /// Marks the read as failed.
    fn fail(&self) {
        self.bad.set(true);
    }

    fn next(&mut self) -> Value {
        self.items.next().unwrap_or_else(|| {
            self.fail();
            Value::Null
        })
    }

    /// Whether the items are used up.
    fn done(&self) -> bool {
        self.items.len() == 0
    }

    /// Fails unless the items are used up.
    fn end(&self) {
        if !self.done() {
            self.fail();
        }
    }

    fn array(&mut self) -> Reader<'b> {
        let value = self.next();
        Reader::of(value, self.bad)
    }

    fn string(&mut self) -> String {
        match self.next() {
            Value::String(s) => s,
            _ => {
                self.fail();
                String::new()
            }
        }
    }

    /// A string or `null`.
    fn optional(&mut self) -> Option<String> {
        match self.next() {
            Value::String(s) => Some(s),
            Value::Null => None,
            _ => {
                self.fail();
                None
            }
        }
    }

    /// A finite number, or `null` where `nullable`.
    fn maybe_number(&mut self, nullable: bool) -> Option<f64> {
        match self.next() {
            Value::Number(n) if n.is_finite() => Some(n),
            Value::Null if nullable => None,
            _ => {
                self.fail();
                None
            }
        }
    }

    fn number(&mut self) -> f64 {
        self.maybe_number(false).unwrap_or_default()
    }

    /// A whole number within `min..=max`, or `null` where `nullable`.
    fn maybe_int(&mut self, min: i64, max: i64, nullable: bool) -> Option<i64> {
        let n = self.maybe_number(nullable)?;
        if is_whole(n) && n >= min as f64 && n <= max as f64 {
            Some(n as i64)
        } else {
            self.fail();
            None
        }
    }

    /// A whole number within `min..=max` (`min` when it is not).
    fn int(&mut self, min: i64, max: i64) -> i64 {
        self.maybe_int(min, max, false).unwrap_or(min)
    }

    fn points(&mut self) -> i32 {
        self.int(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }

    /// An index below `len` (0 when it is not).
    fn index(&mut self, len: usize) -> usize {
        self.maybe_int(0, len as i64 - 1, false).unwrap_or(0) as usize
    }

    /// An index below `len`, or `null`.
    fn optional_index(&mut self, len: usize) -> Option<usize> {
        self.maybe_int(0, len as i64 - 1, true).map(|n| n as usize)
    }

    fn bool(&mut self) -> bool {
        match self.next() {
            Value::Bool(b) => b,
            _ => {
                self.fail();
                false
            }
        }
    }

    fn strings(&mut self) -> Vec<String> {
        let mut r = self.array();
        let mut out = Vec::new();
        while !r.done() {
            out.push(r.string());
        }
        out
    }

    /// String pairs up to the end.
    fn pairs(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while !self.done() {
            out.push((self.string(), self.string()));
        }
        out
    }
}

fn category(r: &mut Reader) -> Category {
    Category::ALL[r.index(Category::ALL.len())]
}

fn read_form(r: &mut Reader) -> Form {
    let locale = r.string();
    let id = r.string();
    let endpoint = r.string();
    // Questions come before grades, whose count their caps are checked against later.
    let questions_value = r.next();
    let mut weights = [0u32; 6];
    let mut wr = r.array();
    for weight in &mut weights {
        *weight = wr.int(0, i64::from(u32::MAX)) as u32;
    }
    wr.end();
    let scoring = match r.maybe_int(-i64::from(i32::MAX), i64::from(i32::MAX), true) {
        None => Scoring::Shares,
        Some(offset) => Scoring::Sum {
            offset: offset as i32,
        },
    };
    let mut signals = Vec::new();
    let mut sr = r.array();
    while !sr.done() {
        let mut s = sr.array();
        let id = s.string();
        let input = SignalInput::ALL[s.index(SignalInput::ALL.len())];
        let short_label = s.string();
        let category = category(&mut s);
        let mut values = Vec::new();
        let mut vr = s.array();
        while !vr.done() {
            values.push((vr.string(), vr.points()));
        }
        signals.push(Signal {
            id,
            input,
            short_label,
            category,
            values,
            other: s.points(),
            none: s.points(),
        });
        s.end();
    }
    let mut grades = Vec::new();
    let mut gr = r.array();
    while !gr.done() {
        grades.push(Grade {
            name: gr.string(),
            label: gr.string(),
            min: gr.int(0, 100) as u8,
        });
    }
    if grades.last().map(|g| g.min) != Some(0) {
        r.fail();
    }
    let g = grades.len();
    let mut questions = Vec::new();
    let mut qr = Reader::of(questions_value, r.bad);
    while !qr.done() {
        let index = questions.len();
        questions.push(read_question(&mut qr.array(), index, g));
    }
    let max_questions_per_visit = r.int(1, i64::from(u32::MAX)) as usize;
    let questions_per_step = r.int(1, i64::from(u32::MAX)) as usize;
    let mut texts = Texts::empty();
    let mut tr = r.array();
    for slot in texts.slots() {
        *slot = tr.string();
    }
    tr.end();
    let locales = r.strings();
    let direction = if r.bool() {
        Direction::Rtl
    } else {
        Direction::Ltr
    };
    let title = r.optional();
    let intro = r.optional();
    let thank_you = read_thank_you(r);
    let mut thank_you_by_grade = Vec::new();
    let mut br = r.array();
    while !br.done() {
        let grade = br.index(g);
        thank_you_by_grade.push((grade, read_thank_you(&mut br)));
    }
    let theme = r.array().pairs();
    let delivery = read_delivery(r);
    let spam = SpamRules {
        honeypot: r.bool(),
        min_fill_ms: r.int(0, 600_000) as u64,
        action: if r.bool() {
            SpamAction::Drop
        } else {
            SpamAction::Flag
        },
    };
    Form {
        id,
        endpoint,
        questions,
        weights,
        scoring,
        signals,
        grades,
        max_questions_per_visit,
        questions_per_step,
        texts,
        locale,
        locales,
        direction,
        title,
        intro,
        thank_you,
        thank_you_by_grade,
        theme,
        delivery,
        spam,
        variant: r.optional(),
    }
}

/// Question `index` of a form with `grades` grades.
fn read_question(r: &mut Reader, index: usize, grades: usize) -> Question {
    let id = r.string();
    let label = r.string();
    let help = r.optional();
    let short_label = r.string();
    let category = category(r);
    let priority = r.points();
    let required = r.bool();
    let show_if = match r.next() {
        Value::Null => None,
        value => {
            let mut c = Reader::of(value, r.bad);
            let tag = c.int(0, 4);
            // A condition looks at an earlier question.
            let target = c.index(index);
            let condition = match tag {
                0 => Condition::Answered(target, c.bool()),
                1 => Condition::OneOf(target, c.strings()),
                2 => Condition::NoneOf(target, c.strings()),
                3 => Condition::AtLeast(target, c.number()),
                _ => Condition::Below(target, c.number()),
            };
            c.end();
            Some(condition)
        }
    };
    let placeholder = r.optional();
    let max_length = r.int(1, i64::from(u32::MAX)) as usize;
    let points = r.points();
    let unanswered = r.points();
    let tag = r.int(0, 7);
    let kind = if tag == 3 {
        let min = r.number();
        let max = r.number();
        let mut ranges = Vec::new();
        let mut rr = r.array();
        while !rr.done() {
            ranges.push(Range {
                min: rr.number(),
                max: rr.maybe_number(true),
                points: rr.points(),
                label: rr.string(),
                cap_grade: rr.optional_index(grades),
            });
        }
        Kind::Number { min, max, ranges }
    } else {
        let mut choices = Vec::new();
        let mut cr = r.array();
        while !cr.done() {
            choices.push(Choice {
                id: cr.string(),
                label: cr.string(),
                points: cr.points(),
                cap_grade: cr.optional_index(grades),
            });
        }
        match tag {
            0 => Kind::SingleChoice(choices),
            1 => Kind::MultipleChoice(choices),
            2 => Kind::YesNo(choices),
            4 => Kind::Text,
            5 => Kind::Email,
            6 => Kind::Phone,
            _ => Kind::Consent,
        }
    };
    r.end();
    Question {
        id,
        kind,
        label,
        help,
        short_label,
        category,
        priority,
        required,
        show_if,
        placeholder,
        max_length,
        points,
        unanswered,
    }
}

fn read_thank_you(r: &mut Reader) -> ThankYou {
    let title = r.string();
    let body = r.string();
    let link = match r.next() {
        Value::Null => None,
        value => {
            let mut l = Reader::of(value, r.bad);
            let link = ThankYouLink {
                text: l.string(),
                url: l.string(),
                new_tab: l.bool(),
            };
            l.end();
            Some(link)
        }
    };
    ThankYou {
        title,
        body,
        link,
        embed_url: r.optional(),
    }
}

fn read_delivery(r: &mut Reader) -> Delivery {
    let format = Format::ALL[r.index(Format::ALL.len())].1;
    let fields = r.array().pairs();
    let mut values = Vec::new();
    let mut vr = r.array();
    while !vr.done() {
        let id = vr.string();
        let mut m = vr.array();
        let map = if m.int(0, 1) == 0 {
            // Inserted one by one, not collected: `Map`'s collecting code is one more copy in
            // the widget, and a question's options are few (and unique in a compiled form).
            let mut options = Map::new();
            while !m.done() {
                options.insert(m.string(), m.string());
            }
            ValueMap::Options(options)
        } else {
            let mut bands = Vec::new();
            while !m.done() {
                bands.push(Band {
                    min: m.number(),
                    value: m.string(),
                });
            }
            ValueMap::Bands(bands)
        };
        values.push((id, map));
    }
    Delivery {
        format,
        fields,
        values,
        score_field: r.optional(),
        grade_field: r.optional(),
        salesforce_oid: r.optional(),
        fallback: r.optional(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) {
        let value: Value = serde_json::from_str(json).expect("JSON");
        let form = Form::from_value(value).expect("a valid config");
        let compiled = form.to_compiled();
        let value: Value = serde_json::from_str(&compiled).expect("compiled JSON");
        assert_eq!(Form::from_compiled(value), Some(form), "{compiled}");
    }

    #[test]
    fn every_fixture_compiles_and_reads_back_equal() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/configs");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                round_trip(&std::fs::read_to_string(&path).expect("fixture"));
                count += 1;
            }
        }
        assert!(count > 0);
        round_trip(r#"{"formId":"f","preset":"bant","locale":"de"}"#);
        round_trip(
            r#"{"formId":"s","scoring":{"mode":"sum","offset":-5},"questions":[
                {"id":"n","kind":"number","label":"N","ranges":[{"min":0,"max":9,"points":1},{"min":10,"points":5}]},
                {"id":"m","kind":"multipleChoice","label":"M","options":[{"id":"a","label":"A"}],
                 "showIf":{"question":"n","atLeast":3}}],
               "signals":[{"id":"src","input":"utmSource","values":{"google":3},"other":1}]}"#,
        );
        // Delivery value maps: option ids (out of order in the config) and number bands.
        round_trip(
            r#"{"formId":"d","preset":"bant","questions":[
                {"id":"role","kind":"singleChoice","label":"Role","options":[
                  {"id":"b","label":"B"},{"id":"a","label":"A"},{"id":"c","label":"C"}]},
                {"id":"headcount","kind":"number","label":"Headcount","min":1}],
               "endpoint":"https://api.hsforms.com/submissions/v3/integration/submit/1/abc",
               "delivery":{"format":"hubspot","fallback":"https://c.example/v1/leads",
                 "fields":{"role":"jobtitle","headcount":"numemployees"},
                 "values":{"role":{"c":"Gamma","a":"Alpha","b":"Beta"},
                           "headcount":[{"min":1,"value":"1-4"},{"min":5,"value":"5-25"}]}}}"#,
        );
    }

    #[test]
    fn a_form_in_several_languages_gives_the_one_the_page_prefers() {
        let json = r#"{"formId":"f","preset":"bant","locale":"auto",
            "translations":{"it":{"title":"Ciao"}}}"#;
        let config = || serde_json::from_str::<Value>(json).unwrap();
        let forms: Vec<Form> = Form::from_value(config())
            .unwrap()
            .locales
            .iter()
            .map(|l| Form::from_value_for(config(), &[l]).unwrap())
            .collect();
        let document = compile(&forms.iter().collect::<Vec<_>>());
        let read = |preferred: &[&str]| {
            let value: Value = serde_json::from_str(&document).unwrap();
            assert!(is_compiled(&value));
            Form::from_compiled_for(value, preferred).map(|f| f.locale)
        };
        assert_eq!(read(&[]).as_deref(), Some("en"));
        assert_eq!(read(&["de-AT", "en"]).as_deref(), Some("de"));
        assert_eq!(read(&["it"]).as_deref(), Some("it"));
        assert_eq!(
            Form::from_compiled_for(serde_json::from_str(&document).unwrap(), &["fr"]),
            Some(Form::from_value_for(config(), &["fr"]).unwrap())
        );
    }

    /// Every way to change one item of `value`: left out, or replaced by a value of another
    /// type.
    fn mutations(value: &Value, out: &mut Vec<Value>) {
        let Value::Array(items) = value else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let mut without = items.clone();
            without.remove(i);
            out.push(Value::Array(without));
            let other = match item {
                Value::Bool(_) => Value::Null,
                _ => Value::Bool(true),
            };
            let mut replaced = items.clone();
            replaced[i] = other;
            out.push(Value::Array(replaced));
            let mut inner = Vec::new();
            mutations(item, &mut inner);
            for changed in inner {
                let mut nested = items.clone();
                nested[i] = changed;
                out.push(Value::Array(nested));
            }
        }
    }

    #[test]
    fn any_one_item_left_out_or_of_another_type_reads_without_panicking() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/configs");
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).unwrap();
            let form = Form::from_value(value).expect("a valid config");
            let compiled: Value = serde_json::from_str(&form.to_compiled()).unwrap();
            let mut changed = Vec::new();
            mutations(&compiled, &mut changed);
            let (mut read, mut rejected) = (0, 0);
            for value in changed {
                match Form::from_compiled(value) {
                    Some(_) => read += 1,
                    None => rejected += 1,
                }
            }
            // Most changes break the shape; a list item left out (a question, a locale) does not.
            assert!(
                rejected > read && read > 0,
                "{path:?}: {read} read, {rejected} rejected"
            );
        }
    }

    #[test]
    fn what_does_not_hold_together_is_not_a_compiled_form() {
        let config: Value = serde_json::from_str(
            r#"{"formId":"f","preset":"bant","questions":[
                {"id":"n","kind":"number","label":"N"},
                {"id":"m","kind":"yesNo","label":"M","showIf":{"question":"n","atLeast":3}}]}"#,
        )
        .unwrap();
        assert_eq!(
            Form::from_compiled(config.clone()),
            None,
            "a config is not compiled"
        );
        let compiled = Form::from_value(config).unwrap().to_compiled();
        // A grade cap past the grades, a condition on the question itself, a wrong version.
        for (from, to) in [
            (r#""hot","Hot",70,"#, ""),
            ("[3,8,3]", "[3,9,3]"),
            ("bantam-form/1", "bantam-form/2"),
        ] {
            let broken = compiled.replacen(from, to, 1);
            assert_ne!(broken, compiled, "{from} is in {compiled}");
            let value: Value = serde_json::from_str(&broken).unwrap();
            assert_eq!(Form::from_compiled(value), None, "{broken}");
        }
    }
}

//! JSON-like values in and out, without serde's generic machinery in the wasm build.
//!
//! Configs arrive as a [`Value`] (the widget builds one from a JS object, the collector and
//! tests through serde with the `serde` feature) and are read field by field by
//! [`Object`], which reports unknown and missing fields and wrong types with the path of the
//! culprit. Lead documents leave as JSON text written by [`JsonWriter`]. Monomorphised serde
//! code was most of the widget's size; this is the same contract in a fraction of the bytes.

use crate::answer::format_number;
use crate::config::ConfigError;
use crate::prelude::*;

/// Any JSON-like value, such as a parsed config.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` (or `undefined` from JS).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any number.
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, keys in source order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value of the first field named `key`, when this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The JSON type name, for messages.
    pub(crate) fn kind(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => format!("boolean `{b}`"),
            Value::Number(n) => format!("number `{}`", format_number(*n)),
            Value::String(s) => format!("string \"{s}\""),
            Value::Array(_) => "an array".into(),
            Value::Object(_) => "an object".into(),
        }
    }
}

#[cfg(feature = "serde")]
mod de {
    use super::Value;
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    struct ValueVisitor;

    impl<'de> Visitor<'de> for ValueVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(v as f64))
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(v as f64))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
            Ok(Value::Number(v))
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }

        fn visit_string<E: Error>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }

        fn visit_unit<E: Error>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_none<E: Error>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            Value::deserialize(d)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut entries = Vec::new();
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                entries.push((key, value));
            }
            Ok(Value::Object(entries))
        }
    }

    impl<'de> Deserialize<'de> for Value {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
            d.deserialize_any(ValueVisitor)
        }
    }
}

fn syntax(path: &str, message: String) -> ConfigError {
    ConfigError::Syntax {
        path: if path.is_empty() {
            "config".into()
        } else {
            path.to_owned()
        },
        message,
    }
}

/// `items` joined by `sep`, as `[&str]::join` gives them: a plain loop costs the widget a
/// fraction of the standard library's join, which is monomorphised once per item type.
pub(crate) fn join_with<'a>(items: impl Iterator<Item = &'a str>, sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
    out
}

/// `s` without the ASCII `byte` repeated at its end: `trim_end_matches` with one ASCII char,
/// without the char searcher it brings into the widget.
pub(crate) fn trim_end_ascii(s: &str, byte: u8) -> &str {
    let mut end = s.len();
    while end > 0 && s.as_bytes().get(end - 1) == Some(&byte) {
        end -= 1;
    }
    // An ASCII byte is never part of a longer character: `end` is a char boundary.
    s.get(..end).unwrap_or(s)
}

/// Where the first of `bytes` (ASCII) is in `s`. One plain loop for every byte search: char
/// patterns bring the char searcher into the widget, `[u8]::contains` memchr's
/// word-at-a-time loops, and each `position` closure a copy of the iterator's search.
pub(crate) fn find_any(s: &str, bytes: &[u8]) -> Option<usize> {
    let s = s.as_bytes();
    let mut at = 0;
    while at < s.len() {
        let mut k = 0;
        while k < bytes.len() {
            if s[at] == bytes[k] {
                return Some(at);
            }
            k += 1;
        }
        at += 1;
    }
    None
}

/// The text before the first of `bytes` (ASCII) in `s`, or all of it: `split(chars).next()`
/// without the char searcher (see [`find_any`]).
pub(crate) fn before_any<'a>(s: &'a str, bytes: &[u8]) -> &'a str {
    let end = find_any(s, bytes).unwrap_or(s.len());
    s.get(..end).unwrap_or(s)
}

/// `s.split_once(c)` for an ASCII `c` (as a byte), found by [`find_any`].
pub(crate) fn split_once_ascii(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = find_any(s, &[byte])?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// `s.split(c)` for an ASCII `c` (as a byte): [`split_once_ascii`] over and over.
pub(crate) fn split_ascii(s: &str, byte: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let r = rest?;
        Some(match split_once_ascii(r, byte) {
            Some((head, tail)) => {
                rest = Some(tail);
                head
            }
            None => {
                rest = None;
                r
            }
        })
    })
}

/// The first `n` characters of `s`, as `s.chars().take(n).collect()` gives them: one function
/// for every such cut, not a character collector per iterator type.
pub(crate) fn first_chars(s: &str, n: usize) -> String {
    let end = s.char_indices().nth(n).map_or(s.len(), |(at, _)| at);
    s.get(..end).unwrap_or(s).to_owned()
}

/// `n` in decimal digits, as `n.to_string()` writes it. A plain loop: `to_string` goes
/// through the formatting machinery, which the lean widget module does without.
pub fn decimal(n: i64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(digits.len() - at + 1);
    if n < 0 {
        out.push('-');
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
    out
}

/// `parts` as one string. One plain loop, not generic: `format!` brings the formatting
/// machinery into the widget, and `[..].concat()` a copy of the standard library's join per
/// item type.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// Joins a path and a key: `questions[2]` + `label` is `questions[2].label`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The entries of a nested object: path, key, value.
pub(crate) type Entries = Vec<(String, String, Value)>;

/// Reads one config object: each field once, by name, with typed getters.
pub(crate) struct Object {
    path: String,
    entries: Vec<(String, Value)>,
}

impl Object {
    /// Checks that `value` is an object whose keys are all in `fields`.
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] naming the path for a non-object or an unknown field.
    pub(crate) fn new(value: Value, path: &str, fields: &[&str]) -> Result<Object, ConfigError> {
        let Value::Object(entries) = value else {
            return Err(syntax(
                path,
                format!("expected an object, found {}", value.kind()),
            ));
        };
        for (key, _) in &entries {
            if !fields.contains(&key.as_str()) {
                let expected: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
                return Err(syntax(
                    &join(path, key),
                    format!(
                        "unknown field `{key}`, expected one of {}",
                        expected.join(", ")
                    ),
                ));
            }
        }
        Ok(Object {
            path: path.to_owned(),
            entries,
        })
    }

    /// The path of a field of this object.
    pub(crate) fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Removes a field; `null` counts as absent.
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        self.take_nullable(key).filter(|v| *v != Value::Null)
    }

    /// Removes a field, keeping an explicit `null` (for fields where it means "off").
    pub(crate) fn take_nullable(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.swap_remove(at).1)
    }

    fn wrong(&self, key: &str, expected: &str, found: &Value) -> ConfigError {
        syntax(
            &self.path_of(key),
            format!("expected {expected}, found {}", found.kind()),
        )
    }

    /// A required field.
    ///
    /// # Errors
    /// `missing field` at this object's path.
    pub(crate) fn require<T>(&self, key: &str, value: Option<T>) -> Result<T, ConfigError> {
        value.ok_or_else(|| syntax(&self.path, format!("missing field `{key}`")))
    }

    /// An optional string.
    pub(crate) fn string(&mut self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a string", &other)),
        }
    }

    /// An optional boolean.
    pub(crate) fn bool(&mut self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong(key, "true or false", &other)),
        }
    }

    /// An optional number.
    pub fn number(&mut self, key: &str) -> Result<Option<f64>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_finite() => Ok(Some(n)),
            Some(other) => Err(self.wrong(key, "a number", &other)),
        }
    }

    /// An optional whole number within `min..=max`.
    pub(crate) fn integer(
        &mut self,
        key: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) if is_whole(n) && n >= min as f64 && n <= max as f64 => {
                Ok(Some(n as i64))
            }
            Some(Value::Number(n)) if is_whole(n) => Err(self.wrong(
                key,
                &format!("a whole number from {min} to {max}"),
                &Value::Number(n),
            )),
            Some(other) => Err(self.wrong(key, "a whole number", &other)),
        }
    }

    /// An optional array, each item with its path.
    pub(crate) fn array(&mut self, key: &str) -> Result<Option<Vec<(String, Value)>>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                let path = self.path_of(key);
                Ok(Some(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{path}[{i}]"), v))
                        .collect(),
                ))
            }
            Some(other) => Err(self.wrong(key, "an array", &other)),
        }
    }

    /// An optional array of strings.
    pub(crate) fn strings(&mut self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(items) = self.array(key)? else {
            return Ok(None);
        };
        items
            .into_iter()
            .map(|(path, v)| match v {
                Value::String(s) => Ok(s),
                other => Err(syntax(
                    &path,
                    format!("expected a string, found {}", other.kind()),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// An optional object as its entries, each value with its path.
    pub(crate) fn entries(&mut self, key: &str) -> Result<Option<Entries>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Object(entries)) => {
                let path = self.path_of(key);
                Ok(Some(
                    entries
                        .into_iter()
                        .map(|(k, v)| (join(&path, &k), k, v))
                        .collect(),
                ))
            }
            Some(other) => Err(self.wrong(key, "an object", &other)),
        }
    }

    /// An optional string that must be one of `names`; returns its index.
    pub(crate) fn choice(
        &mut self,
        key: &str,
        names: &[&str],
    ) -> Result<Option<usize>, ConfigError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => match names.iter().position(|n| *n == s) {
                Some(i) => Ok(Some(i)),
                None => {
                    let expected: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                    Err(syntax(
                        &self.path_of(key),
                        format!(
                            "unknown variant `{s}`, expected one of {}",
                            expected.join(", ")
                        ),
                    ))
                }
            },
        }
    }
}

/// Writes JSON text: objects and arrays with commas placed for the caller. `key` is `Some` for
/// an object's member and `None` for an array's item or the top value.
#[derive(Debug)]
pub struct JsonWriter {
    out: String,
    /// Whether the next item in the current object or array needs a comma first.
    comma: Vec<bool>,
}

impl Default for JsonWriter {
    fn default() -> JsonWriter {
        JsonWriter::new()
    }
}

impl JsonWriter {
    /// An empty writer.
    pub fn new() -> JsonWriter {
        JsonWriter {
            out: String::with_capacity(1024),
            comma: Vec::new(),
        }
    }

    /// The JSON text written.
    pub fn finish(self) -> String {
        self.out
    }

    fn item(&mut self) {
        if let Some(needs) = self.comma.last_mut() {
            if *needs {
                self.out.push(',');
            }
            *needs = true;
        }
    }

    /// Starts an object, as a value or as the value of `key`.
    pub fn begin_object(&mut self, key: Option<&str>) {
        self.prefix(key);
        self.out.push('{');
        self.comma.push(false);
    }

    /// Ends the current object.
    pub fn end_object(&mut self) {
        self.comma.pop();
        self.out.push('}');
    }

    /// Starts an array, as a value or as the value of `key`.
    pub fn begin_array(&mut self, key: Option<&str>) {
        self.prefix(key);
        self.out.push('[');
        self.comma.push(false);
    }

    /// Ends the current array.
    pub fn end_array(&mut self) {
        self.comma.pop();
        self.out.push(']');
    }

    fn prefix(&mut self, key: Option<&str>) {
        self.item();
        if let Some(key) = key {
            self.escaped(key);
            self.out.push(':');
        }
    }

    fn escaped(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                    let code = c as u32;
                    let hex = b"0123456789abcdef";
                    self.out.push_str("\\u");
                    for shift in [12, 8, 4, 0] {
                        self.out.push(hex[((code >> shift) & 0xf) as usize] as char);
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    /// A string.
    pub fn string(&mut self, key: Option<&str>, value: &str) {
        self.prefix(key);
        self.escaped(value);
    }

    /// A whole number.
    pub fn int(&mut self, key: Option<&str>, value: i64) {
        self.prefix(key);
        self.out.push_str(&decimal(value));
    }

    /// A number; answers are kept to three decimals, which this writes exactly.
    pub fn number(&mut self, key: Option<&str>, value: f64) {
        self.prefix(key);
        if value.is_finite() {
            self.out.push_str(&format_number(value));
        } else {
            self.out.push_str("null");
        }
    }

    /// `true` or `false`.
    pub fn bool(&mut self, key: Option<&str>, value: bool) {
        self.prefix(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// A string, or `null` when there is none.
    pub fn optional(&mut self, key: Option<&str>, value: Option<&str>) {
        match value {
            Some(v) => self.string(key, v),
            None => self.null(key),
        }
    }

    /// JSON text written elsewhere (by another `JsonWriter`), as it is.
    pub fn raw(&mut self, key: Option<&str>, json: &str) {
        self.prefix(key);
        self.out.push_str(json);
    }

    /// `null`.
    pub fn null(&mut self, key: Option<&str>) {
        self.prefix(key);
        self.out.push_str("null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_concat_write_what_the_standard_library_does() {
        for n in [
            0,
            1,
            -1,
            9,
            10,
            -10,
            99,
            1000,
            123_456_789,
            i64::MAX,
            i64::MIN,
            -i64::MAX,
        ] {
            assert_eq!(decimal(n), n.to_string());
        }
        assert_eq!(concat(&["a", "", "bc", "√"]), "abc√");
        assert_eq!(concat(&[]), "");
    }

    #[test]
    fn byte_searches_cut_where_the_standard_library_does() {
        for s in [
            "",
            "a",
            ".",
            "..",
            "a.b",
            ".a.",
            "a..b.",
            "é.ü",
            "x://y:1/z?q#f",
            "ab\u{1f}c",
            "€.",
            "a.€",
            "日本.語",
            "-_a-b_c",
        ] {
            for (byte, c) in [(b'.', '.'), (b':', ':'), (b'/', '/'), (b'-', '-')] {
                assert_eq!(split_once_ascii(s, byte), s.split_once(c), "{s:?} {c:?}");
                let ours: Vec<&str> = split_ascii(s, byte).collect();
                assert_eq!(ours, s.split(c).collect::<Vec<_>>(), "{s:?} {c:?}");
                assert_eq!(
                    trim_end_ascii(s, byte),
                    s.trim_end_matches(c),
                    "{s:?} {c:?}"
                );
            }
            for n in 0..5 {
                let want: String = s.chars().take(n).collect();
                assert_eq!(first_chars(s, n), want, "{s:?} {n}");
            }
            for (bytes, chars) in [
                (&b"/?#:"[..], &['/', '?', '#', ':'][..]),
                (b"-_", &['-', '_']),
            ] {
                let want = s.split(chars).next().unwrap_or_default();
                assert_eq!(before_any(s, bytes), want, "{s:?} {chars:?}");
            }
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.string(Some("a\"b"), "line\nbreak \\ \u{1} \u{2028} é");
        w.int(Some("n"), -3);
        w.number(Some("x"), 0.25);
        w.begin_array(Some("l"));
        w.bool(None, true);
        w.null(None);
        w.end_array();
        w.end_object();
        assert_eq!(
            w.finish(),
            r#"{"a\"b":"line\nbreak \\ \u0001 \u2028 é","n":-3,"x":0.25,"l":[true,null]}"#
        );
    }

    #[test]
    fn objects_report_unknown_missing_and_mistyped_fields() {
        let value = Value::Object(vec![
            ("a".into(), Value::Number(2.5)),
            ("zz".into(), Value::Null),
        ]);
        let err = Object::new(value.clone(), "q[0]", &["a", "b"])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("q[0].zz: unknown field `zz`, expected one of `a`, `b`")
        );
        let mut o = Object::new(value, "", &["a", "b", "zz"]).unwrap();
        assert_eq!(
            o.integer("a", 0, 10).unwrap_err().to_string(),
            "a: expected a whole number, found number `2.5`"
        );
        let b = o.string("b").unwrap();
        assert_eq!(
            o.require("b", b).unwrap_err().to_string(),
            "config: missing field `b`"
        );
        assert_eq!(o.string("zz").unwrap(), None, "null is absent");
    }
}

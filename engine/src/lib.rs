//! Bantam's pure engine: form config, answers, scoring, progressive profiling and the lead document.
//!
//! Nothing in this crate reads a clock, a random source, the DOM, storage or the network.
//! Time, ids, the page and the answers already known come in as arguments, so every rule of
//! the product is testable with plain `cargo test`, and the widget (wasm) and the collector
//! (native) share exactly the same code.
//!
//! The flow is: read a config [`Value`] into a [`Form`] with [`Form::from_value_for`] (which
//! reports the path of a bad field and, for `"locale": "auto"`, picks the language from the
//! page's preferred ones; `parse_config_for` does the same from any serde source with the
//! `serde` feature), build [`Answers`] through [`Answers::set`] (which validates each
//! value), then [`score`](score()), [`next_questions`] and [`build_lead`] cannot fail, and
//! [`LeadDocument::to_json`] writes the document endpoints receive.
//!
//! Without the `std` feature (the widget's lean module) the crate needs only `core` and
//! `alloc`: the standard library's panic machinery and its formatting cost the wasm kilobytes.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod answer;
mod attribution;
mod compiled;
mod config;
mod context;
mod delivery;
mod form;
mod lead;
mod map;
mod prelude;
mod preset;
mod profile;
mod read;
mod score;
mod texts;
mod value;

pub use answer::{format_number, AnswerError, AnswerValue, Answers, Input};
pub use attribution::{percent_decode, query_params, Attribution, Touch, Utm, CLICK_IDS};
pub use compiled::{compile, is_compiled, COMPILED_TAG};
#[cfg(feature = "serde")]
pub use config::{parse_config, parse_config_for};
pub use config::{
    ConditionConfig, ConfigError, DeliveryConfig, FieldName, FormConfig, GradeConfig, KindName,
    OptionConfig, QuestionConfig, QuestionTranslationConfig, RangeConfig, ScoringConfig,
    ScoringMode, SignalConfig, SpamConfig, ThankYouConfig, TranslationConfig, WeightsConfig,
};
pub use context::{
    domain_kind, email_domain, website_domain, BrowserInfo, Context, DomainKind, Spam, SpamAction,
    SpamRules,
};
pub use delivery::{
    delivery_warnings, encode, form_encode, Band, Delivery, Extras, Format, Payload, ValueMap,
    Warning, HUBSPOT_FIELDS, LATE_AFTER_MS, SALESFORCE_FIELDS,
};
pub use form::{
    Category, Choice, Condition, Direction, Form, Grade, Kind, Question, Range, Scoring, Signal,
    SignalInput, ThankYou, ThankYouLink,
};
pub use lead::{build_lead, Consent, LeadDocument, LeadInput, PageInfo, SCHEMA_VERSION};
pub use map::Map;
pub use profile::next_questions;
pub use score::{score, score_with, CategoryScore, Reason, Score};
pub use texts::{fill, Texts, TextsConfig, BUILTIN_LOCALES};
pub use value::{concat, decimal, JsonWriter, Value};

/// The engine version recorded in every score, so a collector can tell which rules produced it.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

//! The validated form: what a [`crate::FormConfig`] becomes once every rule has been checked.

use crate::context::SpamRules;
use crate::delivery::Delivery;
use crate::prelude::*;
use crate::texts::Texts;

/// The qualification category a question feeds in the score breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub enum Category {
    /// Budget established or not (the B of BANT).
    Budget,
    /// Decision-making authority (the A of BANT).
    Authority,
    /// The problem the lead wants solved (the N of BANT).
    Need,
    /// When the lead intends to decide (the T of BANT).
    Timeframe,
    /// Fit with the ideal customer, such as headcount.
    Fit,
    /// Contact details; weighted zero by default.
    Contact,
}

impl Category {
    /// All categories in breakdown order.
    pub const ALL: [Category; 6] = [
        Category::Budget,
        Category::Authority,
        Category::Need,
        Category::Timeframe,
        Category::Fit,
        Category::Contact,
    ];

    /// The camelCase name used in config and in the lead document.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Budget => "budget",
            Category::Authority => "authority",
            Category::Need => "need",
            Category::Timeframe => "timeframe",
            Category::Fit => "fit",
            Category::Contact => "contact",
        }
    }

    /// The index of this category in [`Category::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What kind of control a question is and how its answer scores.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Pick exactly one option.
    SingleChoice(Vec<Choice>),
    /// Pick any number of options; points add up.
    MultipleChoice(Vec<Choice>),
    /// A number, scored by the range it falls in.
    Number {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Point ranges, sorted and non-overlapping.
        ranges: Vec<Range>,
    },
    /// Yes or no; the two choices have ids `yes` and `no`.
    YesNo(Vec<Choice>),
    /// Free short text.
    Text,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A consent checkbox; the question label is the consent text.
    Consent,
}

impl Kind {
    /// The camelCase kind name used in config.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::SingleChoice(_) => "singleChoice",
            Kind::MultipleChoice(_) => "multipleChoice",
            Kind::Number { .. } => "number",
            Kind::YesNo(_) => "yesNo",
            Kind::Text => "text",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Consent => "consent",
        }
    }

    /// The choices of a choice or yes/no question; empty for other kinds.
    pub fn choices(&self) -> &[Choice] {
        match self {
            Kind::SingleChoice(c) | Kind::MultipleChoice(c) | Kind::YesNo(c) => c,
            _ => &[],
        }
    }
}

/// One option of a choice question.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Stable id, stored in answers.
    pub id: String,
    /// Text shown to the visitor.
    pub label: String,
    /// Points when chosen (may be negative).
    pub points: i32,
    /// Index into [`Form::grades`] of the best grade a lead choosing this can get.
    pub cap_grade: Option<usize>,
}

/// A range of a number question: `min..=max` scores `points`.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// Smallest value in the range.
    pub min: f64,
    /// Largest value in the range; `None` means open-ended.
    pub max: Option<f64>,
    /// Points for a value in the range.
    pub points: i32,
    /// Text used in reasons, such as `50-249`.
    pub label: String,
    /// Index into [`Form::grades`] of the best grade a value in this range can get.
    pub cap_grade: Option<usize>,
}

impl Range {
    /// Whether `value` falls in this range.
    pub fn contains(&self, value: f64) -> bool {
        value >= self.min && self.max.is_none_or(|max| value <= max)
    }
}

/// A `showIf` condition on an earlier question's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The question has any answer (`true`) or none (`false`).
    Answered(usize, bool),
    /// The answer equals, or for multiple choice contains, one of these option ids
    /// (`yes`/`no` for yes/no questions).
    OneOf(usize, Vec<String>),
    /// The answer is given and is none of these option ids.
    NoneOf(usize, Vec<String>),
    /// A number answer is at least this value.
    AtLeast(usize, f64),
    /// A number answer is below this value.
    Below(usize, f64),
}

impl Condition {
    /// The index of the question this condition looks at.
    pub fn question(&self) -> usize {
        match self {
            Condition::Answered(q, _)
            | Condition::OneOf(q, _)
            | Condition::NoneOf(q, _)
            | Condition::AtLeast(q, _)
            | Condition::Below(q, _) => *q,
        }
    }
}

/// One validated question.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// Stable id, the key in answers.
    pub id: String,
    /// The control and its scoring.
    pub kind: Kind,
    /// The question as shown to the visitor.
    pub label: String,
    /// Optional help text under the label.
    pub help: Option<String>,
    /// Short name used in reasons (`Budget`), defaults to the label.
    pub short_label: String,
    /// Category in the breakdown.
    pub category: Category,
    /// Lower is asked first when a visit cannot ask everything.
    pub priority: i32,
    /// Whether the visitor must answer before going on.
    pub required: bool,
    /// Shown only when this holds.
    pub show_if: Option<Condition>,
    /// Placeholder for text-like inputs.
    pub placeholder: Option<String>,
    /// Longest accepted text, in characters.
    pub max_length: usize,
    /// Points for any answer to a text, email, phone or consent question.
    pub points: i32,
    /// Points when the question was asked and left without an answer (skipped).
    pub unanswered: i32,
}

impl Question {
    /// The most points this question can contribute (never below zero), skipping included.
    pub fn max_points(&self) -> i32 {
        let answered = match &self.kind {
            Kind::SingleChoice(c) | Kind::YesNo(c) => {
                c.iter().map(|c| c.points).max().unwrap_or(0).max(0)
            }
            Kind::MultipleChoice(c) => c.iter().map(|c| c.points.max(0)).sum(),
            Kind::Number { ranges, .. } => {
                ranges.iter().map(|r| r.points).max().unwrap_or(0).max(0)
            }
            Kind::Text | Kind::Email | Kind::Phone | Kind::Consent => self.points.max(0),
        };
        answered.max(self.unanswered)
    }

    /// Whether any answer, or skipping it, changes the score: a question that only collects
    /// (contact details without points) does not count towards [`crate::Score::known`].
    pub fn scores(&self) -> bool {
        self.points != 0
            || self.unanswered != 0
            || self.kind.choices().iter().any(|c| c.points != 0)
            || matches!(&self.kind, Kind::Number { ranges, .. } if ranges.iter().any(|r| r.points != 0))
    }

    /// The choice with this id, if the question has one.
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        self.kind.choices().iter().find(|c| c.id == id)
    }
}

/// What a [`Signal`] reads from the lead: where it came from, or its kind of email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalInput {
    /// `utm_source` of the touch (compared without regard to ASCII case).
    UtmSource,
    /// `utm_medium` of the touch.
    UtmMedium,
    /// `utm_campaign` of the touch.
    UtmCampaign,
    /// Whether the touch carries an ad click id: value `yes` or `no`.
    ClickId,
    /// The host of the touch's referrer; a key matches the host and its subdomains.
    ReferrerDomain,
    /// The path of the touch's landing page; a key matches the path and the paths under it.
    LandingPage,
    /// The contact email's domain: `free` (free mail) or `business`.
    EmailKind,
}

impl SignalInput {
    /// The config name, such as `utmSource`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalInput::UtmSource => "utmSource",
            SignalInput::UtmMedium => "utmMedium",
            SignalInput::UtmCampaign => "utmCampaign",
            SignalInput::ClickId => "clickId",
            SignalInput::ReferrerDomain => "referrerDomain",
            SignalInput::LandingPage => "landingPage",
            SignalInput::EmailKind => "emailKind",
        }
    }

    /// Every input, in the order the config reference lists them.
    pub const ALL: [SignalInput; 7] = [
        SignalInput::UtmSource,
        SignalInput::UtmMedium,
        SignalInput::UtmCampaign,
        SignalInput::ClickId,
        SignalInput::ReferrerDomain,
        SignalInput::LandingPage,
        SignalInput::EmailKind,
    ];
}

/// Something a lead says without being asked, scored like a question: points per value, a
/// category, a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// Stable id, used in reasons (never the id of a question).
    pub id: String,
    /// What it reads.
    pub input: SignalInput,
    /// Name used in reasons.
    pub short_label: String,
    /// Category in the breakdown.
    pub category: Category,
    /// Points by value (`utmSource` values, domains, paths, `yes`/`no`, `free`/`business`).
    pub values: Vec<(String, i32)>,
    /// Points for a value not in `values`.
    pub other: i32,
    /// Points when the lead has no such value (no UTM source, no referrer, no email).
    pub none: i32,
}

impl Signal {
    /// The most points this signal can contribute (never below zero).
    pub fn max_points(&self) -> i32 {
        self.values
            .iter()
            .fold(self.other.max(self.none).max(0), |m, (_, p)| m.max(*p))
    }
}

/// How points become the 0-100 total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scoring {
    /// Each category's points over the most its known questions can earn, weighted by
    /// [`Form::weights`]: the default.
    #[default]
    Shares,
    /// `offset` plus every point earned, clamped to 0-100: a learned model's ranking, kept.
    Sum {
        /// Added to the points.
        offset: i32,
    },
}

/// A grade band: scores at or above `min` get this grade (unless a better band matches first).
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// Machine name, such as `hot`.
    pub name: String,
    /// Text shown to people, such as `Hot`.
    pub label: String,
    /// Lowest total (0-100) for this grade.
    pub min: u8,
}

/// A link shown on the thank-you step.
#[derive(Debug, Clone, PartialEq)]
pub struct ThankYouLink {
    /// Link text.
    pub text: String,
    /// Target URL (http, https, mailto or relative).
    pub url: String,
    /// Open in a new tab (a booking page that should not replace the site).
    pub new_tab: bool,
}

/// What the visitor sees after submitting.
#[derive(Debug, Clone, PartialEq)]
pub struct ThankYou {
    /// Heading.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Optional call to action, such as "Book a call".
    pub link: Option<ThankYouLink>,
    /// An `https` page shown in a frame on the thank-you step, such as a scheduler.
    pub embed_url: Option<String>,
}

/// The writing direction of a form's language, for the widget's `dir` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Left to right, as in English.
    #[default]
    Ltr,
    /// Right to left, as in Arabic and Hebrew.
    Rtl,
}

impl Direction {
    /// The direction of a language tag: right to left for a right-to-left script subtag
    /// (`Arab`, `Hebr`, `Syrc`, `Thaa`, `Nkoo`, `Adlm`), else for the languages written right
    /// to left (Arabic, Hebrew also as `iw`, Persian, Urdu, Pashto, Sindhi, Uyghur, Yiddish,
    /// Dhivehi, Central Kurdish); left to right otherwise.
    pub fn of(tag: &str) -> Direction {
        const RTL_SCRIPTS: [&str; 6] = ["arab", "hebr", "syrc", "thaa", "nkoo", "adlm"];
        const RTL_LANGUAGES: [&str; 11] = [
            "ar", "he", "iw", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb",
        ];
        let mut parts = tag.split(['-', '_']);
        let lang = parts.next().unwrap_or(tag);
        let rtl = match parts.find(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_alphabetic())) {
            Some(script) => RTL_SCRIPTS.iter().any(|s| s.eq_ignore_ascii_case(script)),
            None => RTL_LANGUAGES.iter().any(|l| l.eq_ignore_ascii_case(lang)),
        };
        if rtl {
            Direction::Rtl
        } else {
            Direction::Ltr
        }
    }

    /// The value of the HTML `dir` attribute: `ltr` or `rtl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

/// A validated form. Build it with [`Form::from_config`] or [`crate::parse_config`].
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// The form id, recorded in every lead.
    pub id: String,
    /// Where the widget posts leads.
    pub endpoint: String,
    /// Questions in display order.
    pub questions: Vec<Question>,
    /// Weight of each category, indexed like [`Category::ALL`].
    pub weights: [u32; 6],
    /// How points become the total.
    pub scoring: Scoring,
    /// What a lead says without being asked (UTM, click id, referrer, landing page, email
    /// kind), scored like questions.
    pub signals: Vec<Signal>,
    /// Grades from best to worst; the last has `min == 0`.
    pub grades: Vec<Grade>,
    /// Most questions asked in one visit.
    pub max_questions_per_visit: usize,
    /// Questions per step of the multi-step form.
    pub questions_per_step: usize,
    /// UI texts in the chosen locale, with overrides applied.
    pub texts: Texts,
    /// The locale the form is shown in, such as `de`: the config's `locale`, or for `auto`
    /// the candidate the page's languages picked (see [`Form::locales`]).
    pub locale: String,
    /// Every locale this config can be shown in: for `"locale": "auto"`, the built-in ones
    /// ([`crate::BUILTIN_LOCALES`]) and then the keys of `translations`; otherwise just
    /// [`Form::locale`]. Building the config again with one of these as the preferred language
    /// ([`Form::from_value_for`], [`crate::parse_config_for`]) gives the form in that locale,
    /// as a collector does to re-score a lead in its `locale`.
    pub locales: Vec<String>,
    /// The writing direction of [`Form::locale`], for the widget's `dir` attribute.
    pub direction: Direction,
    /// A heading shown above the first step, in the form's locale.
    pub title: Option<String>,
    /// An introduction shown above the first step, under the title, in the form's locale.
    pub intro: Option<String>,
    /// Thank-you step for grades without their own.
    pub thank_you: ThankYou,
    /// Thank-you steps by grade index.
    pub thank_you_by_grade: Vec<(usize, ThankYou)>,
    /// Theme values as CSS custom properties (`--bantam-accent`, value).
    pub theme: Vec<(String, String)>,
    /// The body format and field names for the endpoint.
    pub delivery: Delivery,
    /// The honeypot, the minimum fill time and what happens to caught submissions.
    pub spam: SpamRules,
    /// The form variant recorded in every lead's context, such as an A/B test arm.
    pub variant: Option<String>,
}

impl Form {
    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The index of the question with this id.
    pub fn question_index(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }

    /// The index of the grade with this name.
    pub fn grade_index(&self, name: &str) -> Option<usize> {
        self.grades.iter().position(|g| g.name == name)
    }

    /// Whether visitors of this form's language write decimals with a comma (`1.234,5`) rather
    /// than a point (`1,234.5`): German, French, Spanish, Italian, Portuguese, Dutch, Polish
    /// and Russian do.
    pub fn decimal_comma(&self) -> bool {
        const COMMA: [&str; 8] = ["de", "fr", "es", "it", "pt", "nl", "pl", "ru"];
        let lang = crate::texts::language(&self.locale);
        COMMA.iter().any(|l| l.eq_ignore_ascii_case(lang))
    }

    /// The thank-you step for a grade.
    pub fn thank_you_for(&self, grade: usize) -> &ThankYou {
        self.thank_you_by_grade
            .iter()
            .find(|(g, _)| *g == grade)
            .map_or(&self.thank_you, |(_, t)| t)
    }
}

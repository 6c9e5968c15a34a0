// Bantam's TypeScript types: mount options, the form config, the events and the lead document.
//
// Written to match the engine: the config as `engine/src/read.rs` reads it (field names, kinds,
// choices) and the lead document as `engine/src/lead.rs` writes it. `src/lib.rs` puts this file
// in the wasm-bindgen output (`bantam_core.d.ts`); `www/src/bantam.d.ts` and the npm package's
// `index.d.ts` re-export it. The package tests check it with `tsc --strict` against every
// config in `tests/data/configs/`, the shape rejections of `tests/data/invalid-configs.json`,
// `tests/data/lead-v1.json`, and the field lists of the engine's reader
// (`tests/e2e/package.test.mjs`).
//
// The engine also reads `null` as "absent" for every optional config field; these types leave
// that out (except where `null` means something: `delivery.scoreField`, `gradeField`). Whole
// numbers and ranges (points -1000..=1000, grade `min` 0..=100) are checked when the form loads.

// ---------------------------------------------------------------------------------------------
// Mount options

/** Options for `mount`: a `config` object or a `configUrl`, and an optional `variant`. */
export type MountOptions =
  | { config: BantamConfig; configUrl?: never; variant?: string }
  | { configUrl: string; config?: never; variant?: string };

// ---------------------------------------------------------------------------------------------
// The form config

/** The form config (the README's config reference). Only `formId` is required. */
export interface BantamConfig {
  /** Id recorded in every lead: 1-64 letters, digits, `-` or `_`. */
  formId: string;
  /** Start from a ready form; `bant` asks budget, authority, need, timeframe and more. */
  preset?: "bant";
  /** Where leads are posted (`https://`, `http://` or a site path); default `/v1/leads`. */
  endpoint?: string;
  /** The form's language; default `en`. */
  locale?: BantamLocale;
  /** Overrides of single interface texts. */
  texts?: TextsConfig;
  /** Heading above the first step, at most 120 characters. */
  title?: string;
  /** Introduction under the title, at most 500 characters. */
  intro?: string;
  /** The config's texts in more languages, by language tag (`de`, `pt-BR`). */
  translations?: { [languageTag: string]: TranslationConfig };
  /** New questions, or overrides of preset questions with the same `id`. */
  questions?: QuestionConfig[];
  /** Ids of preset questions to drop. */
  removeQuestions?: string[];
  /** Weight of each category in the total (`shares` mode only). */
  weights?: WeightsConfig;
  /** How points become the total; default weighted category shares. */
  scoring?: ScoringConfig;
  /** What a lead says without being asked (UTM values, click id, referrer, landing page, email kind), scored like a question. */
  signals?: SignalConfig[];
  /** Grades from best to worst; the last `min` is 0. Default hot ≥ 70, warm ≥ 40, cold ≥ 0. */
  grades?: GradeConfig[];
  /** Most questions asked in one visit; default 6. */
  maxQuestionsPerVisit?: number;
  /** Questions per step; default 3. */
  questionsPerStep?: number;
  /** The thank-you step. */
  thankYou?: ThankYouConfig;
  /** A thank-you step per grade name, laid over `thankYou`. */
  thankYouByGrade?: { [grade: string]: ThankYouConfig };
  /** Colours, radius, font and colour scheme. */
  theme?: ThemeConfig;
  /** Body format and field names for the endpoint; default the JSON lead document. */
  delivery?: DeliveryConfig;
  /** Honeypot, minimum fill time, and what happens to a caught submission. */
  spam?: SpamConfig;
  /** Form variant (an A/B test arm) recorded in `context.variant`: letters, digits, `-`, `_`. */
  variant?: string;
}

/**
 * `en`, `de`, `fr`, `es` (built in), `auto` (the page's language among those the config can
 * show), or another language tag (`it`, `pt-BR`) whose texts the config supplies.
 */
export type BantamLocale = "en" | "de" | "fr" | "es" | "auto" | (string & {});

/** The kind of a question. */
export type QuestionKind =
  | "singleChoice"
  | "multipleChoice"
  | "number"
  | "yesNo"
  | "text"
  | "email"
  | "phone"
  | "consent";

/** A scoring category; each has a weight and a share in the score's breakdown. */
export type Category = "budget" | "authority" | "need" | "timeframe" | "fit" | "contact";

/**
 * One question. A new question needs a `kind` and a `label`; an override of a preset question
 * (same `id`) may leave both out. Which fields a kind takes is checked here too: `options` for
 * choices and yes/no, `ranges`, `min` and `max` for numbers, `points` for the other kinds.
 */
export type QuestionConfig =
  | ChoiceQuestionConfig
  | YesNoQuestionConfig
  | NumberQuestionConfig
  | InputQuestionConfig
  | PresetQuestionOverride;

/**
 * `shares` (the default): each category's points over the most its answered and skipped
 * questions and its signals can earn, weighted. `sum`: `offset` plus every point, kept to 0-100.
 */
export interface ScoringConfig {
  mode?: "shares" | "sum";
  /** Points every lead starts from in `sum` mode. */
  offset?: number;
}

/** The inputs a signal can read, from the lead's last touch (or its page when there is none). */
export type SignalInput =
  | "utmSource"
  | "utmMedium"
  | "utmCampaign"
  | "clickId"
  | "referrerDomain"
  | "landingPage"
  | "emailKind";

/** A scored input the visitor is not asked for. */
export interface SignalConfig {
  /** Its id in reasons and breakdowns; not a question's id. */
  id: string;
  input: SignalInput;
  /** Name used in reasons. */
  shortLabel?: string;
  /** Default `fit`. */
  category?: Category;
  /**
   * Points per value: UTM values in any case; a referrer domain also covers its subdomains; a
   * landing page path the paths under it; `yes`/`no` for `clickId`; `free`/`business` for
   * `emailKind`. The longest matching key wins.
   */
  values?: { [value: string]: number };
  /** Points for a value not listed. */
  other?: number;
  /** Points when the lead has no such value (not for `clickId`). */
  none?: number;
}

/** Fields every question may have. */
export interface QuestionBase {
  /** Stable id, recorded with the answer: letters, digits, `-`, `_`. */
  id: string;
  /** The question; for `consent`, the consent text recorded with the lead. */
  label?: string;
  /** Help text under the label. */
  help?: string;
  /** Name used in reasons (`Budget`); defaults to the label. */
  shortLabel?: string;
  /** Default `contact` for text, email, phone and consent, `fit` otherwise. */
  category?: Category;
  /** Lower is asked first when a visit cannot ask everything; default position × 10. */
  priority?: number;
  /** Must be answered (a required consent must be ticked); default false. */
  required?: boolean;
  /** Show the question only when an earlier question's answer fits. */
  showIf?: ShowIf;
  /** Placeholder of a text input. */
  placeholder?: string;
  /** Longest text accepted, 1-2000; default 200. */
  maxLength?: number;
  /** Points when the question was asked and left empty (optional, non-consent questions). */
  unanswered?: number;
}

/** One option (`singleChoice`) or several (`multipleChoice`). */
export interface ChoiceQuestionConfig extends QuestionBase {
  kind: "singleChoice" | "multipleChoice";
  /** The choices; at least one (unless a preset question's are kept). */
  options?: OptionConfig[];
  ranges?: never;
  min?: never;
  max?: never;
  points?: never;
}

/** Yes or no; options only to give points, a grade cap or a label. */
export interface YesNoQuestionConfig extends QuestionBase {
  kind: "yesNo";
  options?: YesNoOptionConfig[];
  ranges?: never;
  min?: never;
  max?: never;
  points?: never;
}

/** A number, scored by ranges. */
export interface NumberQuestionConfig extends QuestionBase {
  kind: "number";
  /** Points by range, ascending, not overlapping. */
  ranges?: RangeConfig[];
  /** Smallest number accepted; default 0. */
  min?: number;
  /** Largest number accepted; default 10^12. */
  max?: number;
  options?: never;
  points?: never;
}

/** Text, email, phone or a consent checkbox. */
export interface InputQuestionConfig extends QuestionBase {
  kind: "text" | "email" | "phone" | "consent";
  /** Points for any answer, -1000..=1000. */
  points?: number;
  options?: never;
  ranges?: never;
  min?: never;
  max?: never;
}

/** Changes to a preset question, named by its `id`; its kind stays the preset's. */
export interface PresetQuestionOverride extends QuestionBase {
  kind?: never;
  options?: OptionConfig[];
  ranges?: RangeConfig[];
  min?: number;
  max?: number;
  points?: number;
}

/** A choice of a `singleChoice` or `multipleChoice` question. */
export interface OptionConfig {
  /** Stable id, recorded in answers: letters, digits, `-`, `_`. */
  id: string;
  /** Text shown. */
  label: string;
  /** Points when chosen, -1000..=1000; default 0. */
  points?: number;
  /** Name of the best grade a lead choosing this can get (a disqualifier). */
  capGrade?: string;
}

/** An option of a `yesNo` question; the label defaults to the locale's "Yes" or "No". */
export interface YesNoOptionConfig {
  id: "yes" | "no";
  label?: string;
  points?: number;
  capGrade?: string;
}

/** A range of a `number` question. */
export interface RangeConfig {
  /** Smallest value in the range. */
  min: number;
  /** Largest value; leave out for open-ended. */
  max?: number;
  /** Points for a value in the range, -1000..=1000. */
  points: number;
  /** Text used in reasons; default `min–max`. */
  label?: string;
  /** Name of the best grade a value in this range can get. */
  capGrade?: string;
}

/** `showIf`: an earlier `question` and exactly one operator. */
export type ShowIf = { question: string } & (
  | { answered: boolean; equals?: never; oneOf?: never; noneOf?: never; atLeast?: never; below?: never }
  | { equals: string; answered?: never; oneOf?: never; noneOf?: never; atLeast?: never; below?: never }
  | { oneOf: string[]; answered?: never; equals?: never; noneOf?: never; atLeast?: never; below?: never }
  | { noneOf: string[]; answered?: never; equals?: never; oneOf?: never; atLeast?: never; below?: never }
  | { atLeast: number; answered?: never; equals?: never; oneOf?: never; noneOf?: never; below?: never }
  | { below: number; answered?: never; equals?: never; oneOf?: never; noneOf?: never; atLeast?: never }
);

/** Category weights (whole numbers ≥ 0); left-out categories keep their defaults. */
export interface WeightsConfig {
  /** Default 30. */
  budget?: number;
  /** Default 25. */
  authority?: number;
  /** Default 15. */
  need?: number;
  /** Default 20. */
  timeframe?: number;
  /** Default 10. */
  fit?: number;
  /** Default 0. */
  contact?: number;
}

/** A grade: the first whose `min` (0-100) the total reaches. */
export interface GradeConfig {
  /** Machine name, such as `hot`. */
  name: string;
  /** Text for people; defaults to the locale's for hot, warm and cold, else the name. */
  label?: string;
  /** Lowest total for this grade. */
  min: number;
}

/** The thank-you step: texts, a call to action, an `https` page in a frame. */
export interface ThankYouConfig {
  title?: string;
  body?: string;
  /** Text of a call-to-action link (needs a `linkUrl`). */
  linkText?: string;
  /** `https://`, `http://`, `mailto:` or a site path. */
  linkUrl?: string;
  /** Open the link in a new tab. */
  linkNewTab?: boolean;
  /** An `https` page shown in a frame, such as a scheduler. */
  embedUrl?: string;
}

/** Theme values (plain CSS values, at most 100 characters). */
export interface ThemeConfig {
  accent?: string;
  accentText?: string;
  text?: string;
  background?: string;
  border?: string;
  error?: string;
  radius?: string;
  /** Default: the page's font family. */
  fontFamily?: string;
  /** `light` (default), `dark`, or `auto` (the visitor's system setting). */
  scheme?: "light" | "dark" | "auto";
}

/** How leads are encoded for the endpoint (the README's *Endpoint formats*). */
export interface DeliveryConfig {
  /** Default `json` (the lead document); other formats need an explicit `endpoint`. */
  format?: "json" | "hubspot" | "salesforce" | "form";
  /** Question id → the endpoint's field name. */
  fields?: { [questionId: string]: string };
  /** Field for the score total; default `bantam_score` (none for `salesforce`); `null`: none. */
  scoreField?: string | null;
  /** Field for the grade; default `bantam_grade` (none for `salesforce`); `null`: none. */
  gradeField?: string | null;
  /** Salesforce organisation id (15 or 18 characters starting `00D`); required for `salesforce`. */
  salesforceOid?: string;
  /** Per question: option id → value, or for a number question ascending `{min, value}` bands. */
  values?: { [questionId: string]: { [optionId: string]: string } | ValueBand[] };
  /** A Bantam collector's `/v1/leads` that takes leads the endpoint refuses for good. */
  fallback?: string;
}

/** A number goes out as the `value` of the last band whose `min` it reaches. */
export interface ValueBand {
  min: number;
  value: string;
}

/** Spam protection. */
export interface SpamConfig {
  /** Add the hidden honeypot field; default true. */
  honeypot?: boolean;
  /** Submissions faster than this (0-600 s) are caught; default 3, 0 turns it off. */
  minFillSeconds?: number;
  /** `flag` (default: sent with `spam.flagged`) or `drop` (not sent). */
  action?: "flag" | "drop";
}

/** The config's texts in one more language; ids, points and rules stay the config's. */
export interface TranslationConfig {
  texts?: TextsConfig;
  title?: string;
  intro?: string;
  thankYou?: ThankYouConfig;
  thankYouByGrade?: { [grade: string]: ThankYouConfig };
  questions?: QuestionTranslation[];
}

/** The texts of one question in a translation. */
export interface QuestionTranslation {
  /** The id of a question of the form. */
  id: string;
  label?: string;
  help?: string;
  placeholder?: string;
  shortLabel?: string;
  /** Option labels by option id. */
  options?: { id: string; label: string }[];
  /** Range labels, by position. */
  ranges?: { label: string }[];
}

/** Interface texts to override; `{name}` marks a value filled in. */
export interface TextsConfig {
  formLabel?: string;
  next?: string;
  back?: string;
  submit?: string;
  /** `{current}`, `{total}`. */
  progress?: string;
  requiredMark?: string;
  yes?: string;
  no?: string;
  errorRequired?: string;
  errorChoose?: string;
  errorEmail?: string;
  errorPhone?: string;
  errorNumber?: string;
  /** `{min}`, `{max}`. */
  errorRange?: string;
  /** `{max}`. */
  errorTooLong?: string;
  errorConsent?: string;
  errorSummary?: string;
  sending?: string;
  thankYouTitle?: string;
  thankYouBody?: string;
  notYou?: string;
  welcomeBack?: string;
  submitFailed?: string;
  /** `{question}`: the short label. */
  reasonNotAnswered?: string;
  /** `{grade}`. */
  reasonCapped?: string;
  gradeHot?: string;
  gradeWarm?: string;
  gradeCold?: string;
}

// ---------------------------------------------------------------------------------------------
// The lead document (schemaVersion 1): what a `json` endpoint receives

/** One lead, as posted to a `json` endpoint and in `bantam:submit`. A versioned contract. */
export interface LeadDocument {
  schemaVersion: 1;
  /** A UUID made once per submission; deduplicate on it. */
  id: string;
  formId: string;
  /** RFC 3339, UTC. */
  submittedAt: string;
  /** The language the form was shown in. */
  locale: string;
  /** The visitor's visits with this form, this one included. */
  visitCount: number;
  /** Ids answered on this visit; the rest of `answers` is from earlier visits. */
  newAnswers: string[];
  /**
   * Ids of the questions shown on this visit: one here but not in `answers` was skipped; one in
   * neither was not asked yet (unknown, not zero). Absent from older widgets' leads.
   */
  asked?: string[];
  /** Text, email and phone answers of the `contact` category, by question id. */
  contact: { [questionId: string]: string };
  /** Every shown answer by question id. */
  answers: { [questionId: string]: AnswerValue };
  /** Computed in the browser; advisory (the collector re-scores). */
  score: Score;
  page: PageInfo;
  /** When the form asks for consent, else `null`. */
  consent: Consent | null;
  /** First and last touch; `null` when unknown. */
  attribution: Attribution | null;
  context: LeadContext;
  spam: SpamVerdict;
  /**
   * A random id the widget keeps for the visitor with their profile (after consent where the
   * form asks for it): their first submission's `id`. A collector links their submissions to
   * one person with it until it knows their email. Absent from leads of older widgets.
   */
  visitorId?: string;
  /**
   * Only on a lead a third-party endpoint refused for good, as posted to `delivery.fallback`.
   */
  refusal?: Refusal;
}

/**
 * An answer: an option id (single choice), option ids (multiple choice), a number (kept to
 * three decimals), `true`/`false` (yes/no, consent), or text.
 */
export type AnswerValue = string | string[] | number | boolean;

/** A score: total, grade, per-category breakdown and reasons. `detail` of `bantam:scored`. */
export interface Score {
  /** 0-100. */
  total: number;
  /** Share of the point-carrying questions answered or skipped so far, 0-100. */
  known: number;
  /** The grade's name. */
  grade: string;
  /** The grade a disqualifier capped it at, when one did. */
  cappedBy?: string;
  /** Categories with questions shown or points possible. */
  breakdown: { [C in Category]?: CategoryScore };
  reasons: Reason[];
  /** Version of the scoring engine. */
  engineVersion: string;
}

/** One category's part of a score. */
export interface CategoryScore {
  points: number;
  maxPoints: number;
  /** 0-100. */
  score: number;
  weight: number;
  answered: number;
  unanswered: number;
}

/** One line of a score's explanation, such as `"Budget $50k–$250k: +25"`. */
export interface Reason {
  questionId: string;
  category: Category;
  points: number;
  text: string;
}

/** The page the form was on. */
export interface PageInfo {
  url: string;
  title: string;
  /** Empty when none. */
  referrer: string;
}

/** The consent decision and the exact text shown. */
export interface Consent {
  questionId: string;
  given: boolean;
  text: string;
}

/** First and last touch. */
export interface Attribution {
  firstTouch: Touch;
  lastTouch: Touch;
}

/** Where one page view came from. */
export interface Touch {
  /** RFC 3339. */
  at: string;
  landingPage: string;
  /** Empty when none. */
  referrer: string;
  utm: {
    source: string | null;
    medium: string | null;
    campaign: string | null;
    term: string | null;
    content: string | null;
  };
  /** Ad click ids found in the landing page's URL. */
  clickIds: { [Id in ClickId]?: string };
}

/** The ad click ids a touch records. */
export type ClickId =
  | "gclid"
  | "gbraid"
  | "wbraid"
  | "dclid"
  | "fbclid"
  | "msclkid"
  | "li_fat_id"
  | "ttclid"
  | "twclid"
  | "epik"
  | "rdt_cid";

/** Enrichment; unknowns are `null`. */
export interface LeadContext {
  emailDomain: string | null;
  emailDomainKind: "free" | "business" | null;
  companyDomain: string | null;
  /** `navigator.language`. */
  browserLocale: string;
  timeZone: string;
  /** From the form appearing to the submission. */
  fillTimeMs: number;
  variant: string | null;
}

/** The spam rules' verdict. */
export interface SpamVerdict {
  flagged: boolean;
  reasons: ("honeypot" | "tooFast")[];
}

/** A third-party endpoint's refusal, attached to a lead sent to `delivery.fallback`. */
export interface Refusal {
  endpoint: string;
  format: "json" | "hubspot" | "salesforce" | "form";
  status: number;
  response: string;
}

/** The body a `hubspot` endpoint receives (HubSpot Forms API v3). */
export interface HubSpotSubmission {
  /** Epoch milliseconds, as a string; left out for a lead older than 7 days. */
  submittedAt?: string;
  fields: { objectTypeId: "0-1"; name: string; value: string }[];
  context: { pageUri: string; pageName: string; hutk?: string };
  /** When consent was given. */
  legalConsentOptions?: { consent: { consentToProcess: true; text: string } };
}

// ---------------------------------------------------------------------------------------------
// Events

/** `detail` of `bantam:ready`. */
export interface ReadyDetail {
  formId: string;
  /** The ids of the questions this visit asks. */
  questions: string[];
  steps: number;
}

/** `detail` of `bantam:step`, on every step shown. */
export interface StepDetail {
  /** 1-based. */
  step: number;
  total: number;
  /** The ids of the questions shown. */
  questions: string[];
}

/** `detail` of `bantam:submit`: the lead about to be posted. */
export interface SubmitDetail {
  lead: LeadDocument;
}

/** `detail` of `bantam:delivered`: the endpoint answered 2xx (0 for `salesforce`). */
export interface DeliveredDetail {
  id: string;
  status: number;
}

/** `detail` of `bantam:error`. */
export interface BantamErrorDetail {
  /**
   * `config` (bad config or options), `mount` (missing target, config URL unreachable), `load`
   * (the widget's files could not load), `delivery` (the endpoint refused the lead), `queued`
   * (the endpoint could not be reached; the lead waits and is retried), `quarantined` (Bantam's
   * collector kept the lead in quarantine).
   */
  code: "config" | "mount" | "load" | "delivery" | "queued" | "quarantined";
  message: string;
  /** The config path, for `config`. */
  path?: string;
  /** The endpoint's HTTP status, when it answered. */
  status?: number;
  /** The lead id, for delivery problems. */
  id?: string;
  /**
   * For `delivery` without a fallback: the refused body, when JSON (the lead document, or
   * HubSpot's submission).
   */
  lead?: LeadDocument | HubSpotSubmission;
}

/** Events dispatched on the form; they bubble and cross the shadow boundary (`composed`). */
export interface BantamEventMap {
  "bantam:ready": CustomEvent<ReadyDetail>;
  "bantam:step": CustomEvent<StepDetail>;
  "bantam:scored": CustomEvent<Score>;
  "bantam:submit": CustomEvent<SubmitDetail>;
  "bantam:delivered": CustomEvent<DeliveredDetail>;
  "bantam:error": CustomEvent<BantamErrorDetail>;
}

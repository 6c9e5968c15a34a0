// The widget's browser IO, hand-written: the delivery outbox, one delivery attempt, the
// visitor's storage, the config URL's fetch and the `bantam:*` events. The engine (in the wasm)
// decides what a lead and its payload are; this module only stores, sends and reports them.
// Rust imports what it uses of it (src/platform.rs), widget.js the rest; wasm-bindgen copies it
// next to widget.js and the build bundles both into the glue.
//
// The delivery outbox: a lead is stored in `localStorage` before the first attempt and leaves
// it only when the endpoint has answered for it. Retries use exponential backoff with jitter on
// network errors, timeouts, 5xx, 408 and 429 (honouring `Retry-After`); the first failure of a
// lead is reported (`bantam:error`, code `queued`) so a site owner testing the page sees an
// endpoint that is down. A refusal (other 4xx) sends the lead document, with the refusal
// attached, to the form's `delivery.fallback` (a Bantam collector keeps it in quarantine), or,
// without one, is reported with the lead in the event. The outbox is flushed when a form mounts
// (so a reload or a closed tab loses nothing), on a timer, and when the browser comes back
// online; on `pagehide` every queued lead (in flight or waiting for a retry) goes out at once
// as a `keepalive` request that needs no preflight. One tab at a time flushes (Web Locks). A
// lead may so arrive twice: every body carries the lead id, and JSON endpoints get it as
// `Idempotency-Key` too, so the second copy is harmless.
//
// An outbox entry, as stored: {id, endpoint, body, contentType, idempotencyHeader, readable,
// attempts, nextAt, submittedMs, lateBody?, format, fallback?, lead?} (`lateBody`: the body once
// the lead is older than the engine's `LATE_AFTER_MS`; `fallback`: where the lead document
// `lead` goes if the endpoint refuses it).

/** The `localStorage` key; one outbox per origin, for every form on it. */
const KEY = "bantam.outbox.v1";
/** The longest wait between attempts. */
const MAX_BACKOFF_MS = 300000;
/** How long one attempt may take before it counts as a timeout. */
const TIMEOUT_MS = 10000;

/** The engine's `LATE_AFTER_MS`, given by `watch`. */
let lateAfter = Infinity;
/** Forms that queued a lead in this page, by lead id, to tell them when it is delivered. */
const hosts = new Map();
/** Leads whose failure to leave this page was reported already (once per lead and page). */
const reported = new Set();
let flushing = false;
/** A flush was asked for while one ran: run another pass after it. */
let again = false;
let timer = null;
let watching = false;

/** `localStorage`, or null where it is unavailable (blocked, private mode). */
function storage() {
  try {
    return localStorage;
  } catch {
    return null;
  }
}

/** The stored value of `key`, or null. */
export function storageGet(key) {
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** Stores `value` under `key`; false when storage is unavailable or full. */
export function storageSet(key, value) {
  try {
    storage().setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

/** Removes `key` from storage. */
export function storageRemove(key) {
  try {
    storage()?.removeItem(key);
  } catch {
    // Nothing is kept where storage is unavailable.
  }
}

/**
 * The JSON at a config URL. `accept` (when given) is the request's `Accept`: the lean module asks
 * a collector for the compiled form. `started`, when given, is that same request made already
 * (a loader's prefetch: a promise of its `Response`), read instead of a new one. Rejects with
 * what went wrong, in words.
 */
export async function fetchConfig(url, accept, started) {
  let response;
  try {
    response = await (started || fetch(url, accept ? { headers: { Accept: accept } } : undefined));
  } catch {
    throw "network error";
  }
  if (!response.ok) throw "HTTP status " + response.status;
  try {
    return await response.json();
  } catch {
    throw "not valid JSON";
  }
}

/** Logs one console warning (`Bantam: ` and `message`). */
export function warn(message) {
  console.warn("Bantam: " + message);
}

/** Dispatches `bantam:<name>` on `target`; it bubbles and crosses shadow boundaries. */
export function dispatch(target, name, detail) {
  target.dispatchEvent(new CustomEvent("bantam:" + name, { bubbles: true, composed: true, detail }));
}

/** One console error and `bantam:error` with `detail` ({code, message, …}) on `target`. */
export function report(target, detail) {
  console.error("Bantam: " + detail.message);
  dispatch(target, "error", detail);
}

/** The queued leads; corrupt or foreign contents are dropped with a console warning. */
function load() {
  const text = storageGet(KEY);
  if (text == null) return [];
  let entries;
  try {
    entries = JSON.parse(text);
  } catch {
    // Reported below.
  }
  if (!Array.isArray(entries)) {
    warn("the stored outbox was not readable and was discarded");
    storageRemove(KEY);
    return [];
  }
  const text_ = (v) => (typeof v === "string" ? v : undefined);
  return entries.flatMap((e) => {
    if (!e || typeof e.id !== "string" || typeof e.endpoint !== "string" || typeof e.body !== "string") return [];
    const fallback = text_(e.fallback) !== undefined && text_(e.lead) !== undefined;
    return [{
      id: e.id,
      endpoint: e.endpoint,
      body: e.body,
      // Entries from before the payload formats are JSON lead documents.
      contentType: text_(e.contentType) ?? "application/json",
      idempotencyHeader: typeof e.idempotencyHeader === "boolean" ? e.idempotencyHeader : true,
      readable: typeof e.readable === "boolean" ? e.readable : true,
      attempts: typeof e.attempts === "number" ? e.attempts : 0,
      nextAt: typeof e.nextAt === "number" ? e.nextAt : 0,
      submittedMs: typeof e.submittedMs === "number" ? e.submittedMs : 0,
      lateBody: text_(e.lateBody),
      format: text_(e.format) ?? "json",
      fallback: fallback ? e.fallback : undefined,
      lead: fallback ? e.lead : undefined,
    }];
  });
}

/** Writes the outbox; false when storage is unavailable or full. */
function save(entries) {
  if (!entries.length) {
    if (!storage()) return false;
    storageRemove(KEY);
    return true;
  }
  return storageSet(KEY, JSON.stringify(entries));
}

/**
 * Queues a lead (once per id) and remembers which form to tell about it; false when it cannot
 * be stored (no storage, quota), and the caller posts it directly.
 */
export function enqueue(entry, host) {
  const entries = load();
  if (!entries.some((e) => e.id === entry.id)) entries.push(entry);
  if (!save(entries)) return false;
  if (!hosts.has(entry.id)) hosts.set(entry.id, host);
  return true;
}

/** Tells the form that queued `id` (or the document, for a lead from an earlier page). */
function notify(id, name, detail) {
  const host = hosts.get(id);
  dispatch(host && host.isConnected ? host : document.documentElement, name, detail);
}

/** Reports a problem with lead `id`: one console line and `bantam:error` with the id. */
function reportLead(id, detail, lead) {
  console.error("Bantam: " + detail.message);
  detail.id = id;
  if (lead !== undefined) {
    try {
      detail.lead = JSON.parse(lead);
    } catch {
      detail.lead = null;
    }
  }
  notify(id, "error", detail);
}

/** Backoff before attempt `attempts + 1`: 1 s doubling to 5 min, with up to 30% jitter. */
function backoff(attempts) {
  return Math.min(1000 * 2 ** Math.min(attempts, 10), MAX_BACKOFF_MS) * (1 + Math.random() * 0.3);
}

/**
 * The request for `entry`. At `pageHide` it is a `keepalive` request the browser finishes after
 * the page is gone, and one that needs no CORS preflight (which a closing page does not wait
 * for): a JSON lead document goes as `text/plain` (what `sendBeacon` sends a string as; Bantam's
 * collector reads it as JSON) without the `Idempotency-Key` header (the id is in the body).
 */
function requestInit(entry, pageHide) {
  const headers = new Headers();
  const beacon = pageHide && entry.idempotencyHeader;
  headers.set("Content-Type", beacon ? "text/plain;charset=UTF-8" : entry.contentType);
  if (entry.idempotencyHeader && !beacon) headers.set("Idempotency-Key", entry.id);
  // A payload that has aged out of its target's window (HubSpot's `submittedAt`) goes out in
  // its late form.
  const late = entry.lateBody !== undefined && Date.now() - entry.submittedMs > lateAfter;
  const init = { method: "POST", headers, body: late ? entry.lateBody : entry.body };
  // The endpoint sends no CORS headers (Salesforce Web-to-Lead): the request still arrives,
  // the answer is opaque.
  if (!entry.readable) init.mode = "no-cors";
  if (pageHide) init.keepalive = true;
  return init;
}

/**
 * Posts `entry` once, giving up after `TIMEOUT_MS`. Resolves to what the attempt came to:
 * `{delivered: status, quarantined?}` (2xx, or 0 for an endpoint whose answer the browser may not
 * read), `{retry: why, after?}` (network error, timeout, 408, 429, 5xx; `after` in ms from
 * `Retry-After`), or `{refused: status, text}` (any other status, with the start of the answer).
 */
export async function attempt(entry) {
  const network = { retry: "no answer (network error or timeout)" };
  let response;
  try {
    const init = requestInit(entry, false);
    const controller = new AbortController();
    init.signal = controller.signal;
    setTimeout(() => controller.abort(), TIMEOUT_MS);
    response = await fetch(entry.endpoint, init);
  } catch {
    return network;
  }
  if (!entry.readable) return { delivered: 0 };
  const status = response.status;
  if (status >= 200 && status < 300) {
    const quarantined = response.headers.get("Bantam-Quarantined");
    return quarantined == null ? { delivered: status } : { delivered: status, quarantined };
  }
  // 408 is a timeout on the server's side: worth another try.
  if (status === 408 || status === 429 || status >= 500) {
    // Seconds; an HTTP date gives NaN and is ignored.
    const seconds = Number((response.headers.get("Retry-After") || "").trim() || NaN);
    const after = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
    return { retry: "HTTP " + status, after };
  }
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The status says enough.
  }
  return { refused: status, text: [...text].slice(0, 500).join("") };
}

/**
 * The entry that takes the lead to the fallback after `status`: the lead document with the
 * refusal attached, as JSON to a Bantam collector.
 */
function toFallback(entry, status, response) {
  if (entry.fallback === undefined) return null;
  let document;
  try {
    document = JSON.parse(entry.lead);
  } catch {
    return null;
  }
  if (!document || typeof document !== "object") return null;
  document.refusal = { endpoint: entry.endpoint, format: entry.format, status, response };
  return {
    id: entry.id,
    endpoint: entry.fallback,
    body: JSON.stringify(document),
    contentType: "application/json",
    idempotencyHeader: true,
    readable: true,
    attempts: 0,
    nextAt: 0,
    submittedMs: entry.submittedMs,
    format: "json",
  };
}

/** Sends due leads one by one while holding the outbox; schedules the next pass. */
async function pass() {
  for (;;) {
    const now = Date.now();
    const entry = load().find((e) => e.nextAt <= now);
    if (!entry) break;
    const outcome = await attempt(entry);
    const entries = load();
    const at = entries.findIndex((e) => e.id === entry.id);
    if (at < 0) continue;
    const id = entry.id;
    if (outcome.delivered !== undefined) {
      const status = outcome.delivered;
      entries.splice(at, 1);
      save(entries);
      if (outcome.quarantined !== undefined) {
        reportLead(id, {
          code: "quarantined",
          message: `${entry.endpoint} kept lead ${id} in quarantine: ${outcome.quarantined}`,
          status,
        });
      }
      notify(id, "delivered", { id, status });
    } else if (outcome.refused !== undefined) {
      const status = outcome.refused;
      const response = outcome.text;
      const fallback = toFallback(entry, status, response);
      const answer = response ? ": " + response : "";
      const message = fallback
        ? `${entry.endpoint} refused lead ${id} with HTTP ${status}${answer}; it was sent to the fallback ${fallback.endpoint} instead`
        : `${entry.endpoint} refused lead ${id} with HTTP ${status}${answer}; it was not delivered (set delivery.fallback to keep refused leads in your Bantam collector)`;
      let lead;
      if (fallback) entries[at] = fallback;
      else lead = entries.splice(at, 1)[0].body;
      save(entries);
      reportLead(id, { code: "delivery", message, status },
        entry.contentType === "application/json" ? lead : undefined);
    } else {
      const e = entries[at];
      e.attempts += 1;
      e.nextAt = Date.now() + Math.min(outcome.after ?? backoff(e.attempts), MAX_BACKOFF_MS);
      save(entries);
      if (!reported.has(id)) {
        reported.add(id);
        reportLead(id, {
          code: "queued",
          message: `could not deliver lead ${id} to ${entry.endpoint} (${outcome.retry}); it is kept in this browser and sent again later`,
        });
      }
      // Leads behind a failing one wait for the next pass too.
      break;
    }
  }
  schedule();
}

/** Arms one timer for the earliest queued lead. */
function schedule() {
  clearTimeout(timer);
  timer = null;
  const entries = load();
  if (!entries.length) return;
  const next = Math.min(...entries.map((e) => e.nextAt));
  const delay = Math.min(Math.max(next - Date.now(), 0), MAX_BACKOFF_MS);
  timer = setTimeout(() => {
    timer = null;
    flush();
  }, delay);
}

/** One pass, holding the Web Lock `bantam-outbox` where the browser has Web Locks. */
function lockedPass() {
  const locks = navigator.locks;
  return locks ? locks.request("bantam-outbox", pass) : pass();
}

/**
 * Starts a flush; if one is running in this tab, it makes another pass when done. Across tabs,
 * Web Locks lets one at a time in.
 */
export async function flush() {
  if (flushing) {
    again = true;
    return;
  }
  flushing = true;
  try {
    do {
      again = false;
      await lockedPass();
    } while (again);
  } finally {
    flushing = false;
  }
}

/**
 * Once per page: flush when the browser comes back online, and send everything queued with
 * `keepalive` when the page is hidden for good (the next page load retries what is left).
 * `lateAfterMs` is the engine's `LATE_AFTER_MS`.
 */
export function watch(lateAfterMs) {
  lateAfter = lateAfterMs;
  if (watching) return;
  watching = true;
  addEventListener("online", () => {
    // Everything queued is due again now that the network is back.
    const entries = load();
    for (const e of entries) e.nextAt = 0;
    save(entries);
    flush();
  });
  addEventListener("pagehide", () => {
    // Everything queued, in flight or waiting for a retry, goes out now: the page may never
    // come back. A copy the endpoint already has is harmless (the id).
    for (const entry of load()) {
      try {
        fetch(entry.endpoint, requestInit(entry, true)).catch(() => {});
      } catch {
        // The next page load sends it.
      }
    }
  });
}

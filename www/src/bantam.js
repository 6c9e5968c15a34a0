// Bantam's ES module API for developers: `mount(target, options)` resolves to a `Form`.
//
// Two builds of the widget: the lean module (`bantam_core`) reads compiled forms, which a
// collector serves for its form configs, and ships no config validator; the full module
// (`bantam_full`) also reads and validates configs, with precise errors. A `config` object is
// mounted by the full module, a compiled form or a `configUrl` by the lean one, which hands a
// URL that turns out to hold a config over to the full module. Each loads on first use, so a
// page downloads only the one it needs. The build rewrites "./bantam_core.js" and
// "./bantam_full.js" to their content-hashed names.

/** The `Form` class of the module loaded last (`undefined` until one has loaded). */
export let Form;

let lean = null;
let full = null;

/** Loads and instantiates a module, once. */
function load(module) {
  return module.then(async (m) => {
    await m.default();
    Form = m.Form;
    return m;
  });
}

function leanModule() {
  lean = lean || load(import("./bantam_core.js"));
  return lean;
}

function fullModule() {
  full = full || load(import("./bantam_full.js"));
  return full;
}

/** One console error and `bantam:error` (code `load`) when the WebAssembly cannot load. */
function loadFailed(target, error) {
  const message = "Bantam: could not load the widget's WebAssembly from " + new URL(".", import.meta.url).href +
    " (" + ((error && error.message) || error) + "); the files must be served with CORS and .wasm as application/wasm";
  console.error(message);
  const host = typeof target === "string" ? document.querySelector(target) : target;
  if (host && host.dispatchEvent) {
    host.dispatchEvent(new CustomEvent("bantam:error", {
      bubbles: true, composed: true, detail: { code: "load", message: message.slice(8) },
    }));
  }
  const failure = new Error(message);
  failure.bantamReported = true;
  throw failure;
}

/** The lean module's `Accept` for a config URL (src/options.rs, ACCEPT): the compiled form. */
const ACCEPT = "application/vnd.bantam.form+json, application/json;q=0.9";

/**
 * `options` with the config URL's request started now, while the lean module and its wasm load,
 * instead of once they have (a round trip later); widget.js takes the request over, under a
 * symbol key the strict options reader does not see, when its URL and `Accept` are the mount's.
 * Only for options the mount accepts (`configUrl` and `variant`); others stay as they are, for
 * the mount to refuse.
 */
function prefetching(options) {
  // Plain objects only: a copy of anything else (a function, an object with a prototype of its
  // own) would not read as the original does.
  const plain = options && typeof options == "object" && Object.getPrototypeOf(options) === Object.prototype;
  const url = plain ? options.configUrl : undefined;
  const keys = typeof url == "string" ? Object.keys(options) : [];
  if (!keys.includes("configUrl") || keys.some((k) => k != "configUrl" && k != "variant")) return options;
  const response = fetch(url, { headers: { Accept: ACCEPT } });
  // A failure is the mount's to report (as "network error") when it reads the response.
  response.catch(() => {});
  return { ...options, [Symbol.for("bantam.prefetch")]: { url, accept: ACCEPT, response } };
}

/** Whether `config` is a compiled form: `["bantam-form/1", …]`. */
const compiled = (config) => Array.isArray(config) && typeof config[0] === "string" && config[0].startsWith("bantam-form/");

function mountFull(target, options) {
  return fullModule().then((m) => m.mount(target, options), (error) => loadFailed(target, error));
}

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector).
 * @param {Element | string} target
 * @param {import("./bantam.d.ts").MountOptions} options
 * @returns {Promise<Form>}
 */
export function mount(target, options) {
  const config = options && typeof options === "object" ? options.config : undefined;
  if (config != null && !compiled(config)) return mountFull(target, options);
  const module = leanModule();
  const lean = prefetching(options);
  return module.then((m) => m.mount(target, lean), (error) => loadFailed(target, error))
    .catch((error) => {
      if (error && error.bantamFallback) return mountFull(target, options);
      throw error;
    });
}


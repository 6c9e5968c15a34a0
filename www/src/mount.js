// What both loaders share: a mount goes to one of the widget's two builds, and a build that
// cannot load is reported once.
//
// The lean module (`bantam_core`) reads compiled forms, which a collector serves for its form
// configs, and ships no config validator; the full module (`bantam_full`) also reads and
// validates configs, with precise errors. A `config` object is mounted by the full module, a
// compiled form or a `configUrl` by the lean one, which hands a URL that turns out to hold a
// config over to the full module. Each loads on first use, so a page downloads only the one it
// needs. bantam.js imports both; embed.js carries the lean module in itself (one request fewer,
// and no module import to wait for) and imports the full one.

/** The `Form` class of the module loaded last (`undefined` until one has loaded). */
export let Form;

/**
 * A function that loads and instantiates a module once (again after a failure): `glue()`
 * resolves to the wasm-bindgen glue, `wasm` is where its WebAssembly is (undefined: next to
 * the glue).
 */
export function once(glue, wasm) {
  let loading = null;
  return () => {
    loading = loading || glue().then(async (m) => {
      await m.default(wasm && { module_or_path: wasm });
      Form = m.Form;
      return m;
    });
    // A later mount tries again (after a network error, say).
    loading.catch(() => {
      loading = null;
    });
    return loading;
  };
}

/** One console error and `bantam:error` with `{code, message}` on `host` (when there is one). */
export function report(host, code, message) {
  console.error("Bantam: " + message);
  if (host && host.dispatchEvent) {
    host.dispatchEvent(new CustomEvent("bantam:error", { bubbles: true, composed: true, detail: { code, message } }));
  }
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

/**
 * Opens the page's `localStorage` while a module and its wasm download: the mount reads it (the
 * visitor's attribution, the outbox), and a page's first access to it loads the origin's whole
 * storage, a few milliseconds the visitor would otherwise wait for after the wasm has arrived.
 * Nothing is read or written; where storage is blocked, nothing happens.
 */
function warmStorage() {
  try {
    void localStorage.length;
  } catch {
    // The mount does without storage (private mode, a sandbox).
  }
}

/** Whether `config` is a compiled form: `["bantam-form/1", …]`. */
const compiled = (config) => Array.isArray(config) && typeof config[0] === "string" && config[0].startsWith("bantam-form/");

/**
 * `mount(target, options)` over the two modules (`lean` and `full`, functions as `once` returns)
 * whose files are at `base` (for the message when they cannot load).
 */
export function mounter(lean, full, base) {
  /** One console error and `bantam:error` (code `load`) when a module or its wasm cannot load. */
  function loadFailed(target, error) {
    const message = "could not load the widget from " + base + " (" + ((error && error.message) || error) +
      "); its files must be served with CORS headers and .wasm as application/wasm, and the page's Content-Security-Policy must allow them";
    report(typeof target === "string" ? document.querySelector(target) : target, "load", message);
    const failure = new Error("Bantam: " + message);
    failure.bantamReported = true;
    throw failure;
  }

  function mountFull(target, options) {
    return full().then((m) => m.mount(target, options), (error) => loadFailed(target, error));
  }

  function mountLean(target, options) {
    // The config's request first, then the wasm's: the form needs both.
    const prefetched = prefetching(options);
    return lean().then((m) => m.mount(target, prefetched), (error) => loadFailed(target, error))
      .catch((error) => {
        if (error && error.bantamFallback) return mountFull(target, options);
        throw error;
      });
  }

  return function mount(target, options) {
    const config = options && typeof options === "object" ? options.config : undefined;
    const mounted = config != null && !compiled(config) ? mountFull(target, options) : mountLean(target, options);
    // Once the module's requests are out.
    warmStorage();
    return mounted;
  };
}

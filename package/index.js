// The `bantam-form` package: `mount(target, options)` and the `<bantam-form>` element.
//
// Importing this module touches no browser global but `customElements` (to see whether there
// is one): on a server (Node, a bundler's server build) it defines nothing and loads nothing; in
// a browser it registers <bantam-form>. The WebAssembly loads on the first mount, from next to
// this file unless `setWasmUrl` says otherwise.

const TAG = "bantam-form";

let wasmUrl = null;
let core = null;

/**
 * Where to load the WebAssembly from, for a bundler that does not copy `bantam_core_bg.wasm`
 * next to its output (esbuild, for one). Call it before the first form mounts.
 * @param {string | URL} url
 */
export function setWasmUrl(url) {
  wasmUrl = url;
}

/** The wasm-bindgen glue, once its WebAssembly is instantiated (loaded on first use). */
function loadCore() {
  if (!core) {
    core = import("./bantam_core.js").then(async (glue) => {
      await glue.default({ module_or_path: wasmUrl || new URL("./bantam_core_bg.wasm", import.meta.url) });
      return glue;
    });
    // A later mount tries again (after a network error, say).
    core.catch(() => {
      core = null;
    });
  }
  return core;
}

/** One console error and `bantam:error` (code `load`) when the WebAssembly cannot load. */
function loadFailed(target, error) {
  const message = "could not load the widget's WebAssembly (" + ((error && error.message) || error) +
    "); serve bantam_core_bg.wasm as application/wasm next to the bundle, or call setWasmUrl()";
  const host = typeof target === "string" ? document.querySelector(target) : target;
  report(host, "load", message);
  const failure = new Error("Bantam: " + message);
  failure.bantamReported = true;
  throw failure;
}

/** One console error and a `bantam:error` event on `host`. */
function report(host, code, message) {
  console.error("Bantam: " + message);
  if (host && host.dispatchEvent) {
    host.dispatchEvent(new CustomEvent("bantam:error", { bubbles: true, composed: true, detail: { code, message } }));
  }
}

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector).
 * @param {Element | string} target
 * @param {import("./index.d.ts").MountOptions} options
 * @returns {Promise<import("./index.d.ts").Form>}
 */
export function mount(target, options) {
  return loadCore().then((glue) => glue.mount(target, options), (error) => loadFailed(target, error));
}

/** Fetches a config (for a `locale` to lay over it), as the widget itself would. */
async function fetchConfig(host, url) {
  const fail = (what) => {
    const message = `config URL ${url}: ${what}`;
    report(host, "mount", message);
    const error = new Error("Bantam: " + message);
    error.bantamReported = true;
    return error;
  };
  let response;
  try {
    response = await fetch(url);
  } catch {
    throw fail("network error");
  }
  if (!response.ok) throw fail(`HTTP status ${response.status}`);
  let config;
  try {
    config = await response.json();
  } catch {
    throw fail("not valid JSON");
  }
  // A site path in a config from another origin (a collector's `/forms/x.json`) belongs to
  // that origin, as when the widget fetches the config itself.
  const from = new URL(url, document.baseURI);
  if (from.origin !== location.origin && config && typeof config === "object") {
    const absolute = (path) => (typeof path === "string" && path.startsWith("/") && !path.startsWith("//") ? from.origin + path : path);
    config = { ...config, endpoint: absolute(config.endpoint == null ? "/v1/leads" : config.endpoint) };
    if (config.delivery && typeof config.delivery === "object") {
      config.delivery = { ...config.delivery, fallback: absolute(config.delivery.fallback) };
    }
  }
  return config;
}

function defineElement() {
  /**
   * `<bantam-form>`: mounts a form while it is in the document, from its `config` property or
   * its `config-url` or `form-id` attribute (in that order of precedence), with the `variant`
   * and `locale` attributes laid over; mounts again when one of them changes.
   */
  class BantamFormElement extends HTMLElement {
    static observedAttributes = ["config-url", "form-id", "variant", "locale"];

    #config = undefined;
    #form = null;
    // Changes since the last mount; a move in the document (out and back in) is none.
    #dirty = true;
    // A form is mounted or on its way.
    #active = false;
    #generation = 0;
    #scheduled = false;
    // Mounts run one after another, so two never race for the element.
    #queue = Promise.resolve();

    constructor() {
      super();
      // A `config` set before the element was defined is an own property: take it over.
      if (Object.prototype.hasOwnProperty.call(this, "config")) {
        const config = this.config;
        delete this.config;
        this.config = config;
      }
    }

    /** The config object; wins over the `config-url` and `form-id` attributes. */
    get config() {
      return this.#config;
    }

    set config(value) {
      this.#config = value;
      this.#changed();
    }

    /** The mounted form's handle, or `null` (loading, failed, or not in the document). */
    get form() {
      return this.#form;
    }

    connectedCallback() {
      this.#schedule();
    }

    disconnectedCallback() {
      this.#schedule();
    }

    attributeChangedCallback(name, before, after) {
      if (before !== after) this.#changed();
    }

    #changed() {
      this.#dirty = true;
      this.#schedule();
    }

    // Changes made in one go (attributes set one by one, a move) lead to one update.
    #schedule() {
      if (this.#scheduled) return;
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#update();
      });
    }

    #update() {
      if (this.isConnected && this.#active && !this.#dirty) return;
      this.#generation += 1;
      this.#active = false;
      if (this.#form) {
        this.#form.destroy();
        this.#form = null;
      }
      if (!this.isConnected) return;
      this.#dirty = false;
      const config = this.#config;
      const url = this.getAttribute("config-url") ||
        (this.getAttribute("form-id") ? `/forms/${encodeURIComponent(this.getAttribute("form-id"))}.json` : null);
      if (config == null && !url) return;
      this.#active = true;
      const generation = this.#generation;
      const locale = this.getAttribute("locale");
      const variant = this.getAttribute("variant");
      this.#queue = this.#queue.then(() => this.#mount(generation, config, url, locale, variant));
    }

    async #mount(generation, config, url, locale, variant) {
      if (generation !== this.#generation) return;
      // Every failure gets its one console error and `bantam:error`: from the widget, from
      // the loaders here, or (for anything else) below.
      let reported = false;
      const seen = () => {
        reported = true;
      };
      this.addEventListener("bantam:error", seen);
      try {
        let options;
        if (config != null) {
          options = { config: locale ? { ...config, locale } : config };
        } else if (locale) {
          options = { config: { ...(await fetchConfig(this, url)), locale } };
        } else {
          options = { configUrl: url };
        }
        if (variant) options.variant = variant;
        if (generation !== this.#generation) return;
        const form = await mount(this, options);
        if (generation === this.#generation) {
          this.#form = form;
        } else {
          form.destroy();
        }
      } catch (error) {
        if (!reported && !(error && error.bantamReported)) {
          report(this, "mount", String((error && error.message) || error).replace(/^Bantam: /, ""));
        }
      } finally {
        this.removeEventListener("bantam:error", seen);
      }
    }
  }
  return BantamFormElement;
}

// Registered only where there is a browser; a second copy of the package leaves the first's.
if (typeof customElements !== "undefined" && !customElements.get(TAG)) {
  customElements.define(TAG, defineElement());
}

// Bantam's ES module API for developers: `mount(target, options)` resolves to a `Form`.
// It starts loading the WebAssembly (from next to this file) as soon as it is imported.
// The build rewrites "./bantam_core.js" to the glue's content-hashed name.
import init, { mount as mountCore, Form } from "./bantam_core.js";

const ready = init();
// Reported when a form is mounted (below), not as an unhandled rejection.
ready.catch(() => {});

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

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector).
 * @param {Element | string} target
 * @param {import("./bantam.d.ts").MountOptions} options
 * @returns {Promise<Form>}
 */
export function mount(target, options) {
  return ready.then(() => mountCore(target, options), (error) => loadFailed(target, error));
}

export { Form };

// Bantam's ES module API for developers: `mount(target, options)` resolves to a `Form`.
// It loads the WebAssembly once, on first use, from next to this file.
import init, { mount as mountCore, Form } from "./bantam_core.js";

let ready = null;

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector).
 * @param {Element | string} target
 * @param {import("./bantam.d.ts").MountOptions} options
 * @returns {Promise<Form>}
 */
export function mount(target, options) {
  ready = ready || init();
  return ready.then(() => mountCore(target, options));
}

export { Form };

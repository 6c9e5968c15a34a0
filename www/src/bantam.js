// Bantam's ES module API for developers: `mount(target, options)` resolves to a `Form`.
// It starts loading the WebAssembly (from next to this file) as soon as it is imported.
import init, { mount as mountCore, Form } from "./bantam_core.js";

const ready = init();

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector).
 * @param {Element | string} target
 * @param {import("./bantam.d.ts").MountOptions} options
 * @returns {Promise<Form>}
 */
export function mount(target, options) {
  return ready.then(() => mountCore(target, options));
}

export { Form };

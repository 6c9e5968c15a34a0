// Bantam's ES module API for developers: `mount(target, options)` resolves to a `Form`.
//
// It loads the widget's lean or full module on first use (see mount.js); the build bundles
// mount.js in and rewrites "./bantam_core.js" and "./bantam_full.js" to their content-hashed
// names.

import { mounter, once } from "./mount.js";

export { Form } from "./mount.js";

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector).
 * @type {(target: Element | string, options: import("./bantam.d.ts").MountOptions) => Promise<import("./bantam.d.ts").Form>}
 */
export const mount = mounter(once(() => import("./bantam_core.js")), once(() => import("./bantam_full.js")),
  new URL(".", import.meta.url).href);

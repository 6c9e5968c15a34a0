// Types of Bantam's ES module API (bantam.js). The config, events and lead document are written
// to match the engine in `src/types.d.ts` and come through the glue's `bantam_core.d.ts`.
import type { Form, MountOptions } from "./bantam_core.js";
export type * from "./bantam_core.js";

/** Mounts a Bantam form on `target` (an Element or a CSS selector). */
export function mount(target: Element | string, options: MountOptions): Promise<Form>;

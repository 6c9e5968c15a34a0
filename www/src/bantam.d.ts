// Types of Bantam's ES module API (bantam.js).
import type { Form, MountOptions } from "./bantam_core.js";
export type { Form, MountOptions, BantamConfig, BantamEventMap, BantamErrorDetail } from "./bantam_core.js";

/** Mounts a Bantam form on `target` (an Element or a CSS selector). */
export function mount(target: Element | string, options: MountOptions): Promise<Form>;

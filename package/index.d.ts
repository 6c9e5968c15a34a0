// Types of the `bantam-form` package. The config, events and lead document are written to match
// the engine in the repository's `src/types.d.ts` and come through `bantam_core.d.ts`.
import type { BantamConfig, BantamEventMap, Form, MountOptions } from "./bantam_core.js";

export type * from "./bantam_core.js";

/**
 * Mounts a Bantam form on `target` (an Element or a CSS selector). The first call loads the
 * WebAssembly. Rejects with a `TypeError` for a bad config (the message names the field) and an
 * `Error` for a missing target, a failed config fetch, files that cannot load, or an element
 * that already holds a form; each is also logged once and dispatched as `bantam:error`.
 */
export declare function mount(target: Element | string, options: MountOptions): Promise<Form>;

/**
 * Where to load the WebAssembly from, for a bundler that does not copy `bantam_core_bg.wasm`
 * next to its output (esbuild, for one). Call it before the first form mounts.
 */
export declare function setWasmUrl(url: string | URL): void;

/**
 * `<bantam-form>`, registered when the package is imported in a browser. It mounts a form while
 * it is in the document and destroys it when it leaves; it mounts again when `config` or one of
 * its attributes changes. Attributes: `config-url` (a URL to fetch the config from), `form-id`
 * (the collector's `/forms/<form-id>.json` on this site), `variant` (recorded in each lead's
 * `context.variant`), `locale` (overrides the config's `locale`). The `config` property wins
 * over `config-url`, which wins over `form-id`. Events (`bantam:*`) bubble from its form.
 */
export interface BantamFormElement extends HTMLElement {
  /** The config object; wins over the `config-url` and `form-id` attributes. */
  config: BantamConfig | undefined;
  /** The mounted form's handle, or `null` (loading, failed, or not in the document). */
  readonly form: Form | null;
}

declare global {
  interface HTMLElementTagNameMap {
    "bantam-form": BantamFormElement;
  }
  /** Bantam's events bubble to the document and window: `addEventListener` knows their `detail`. */
  interface GlobalEventHandlersEventMap extends BantamEventMap {}
}

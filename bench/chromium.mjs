// Debian's headless Chromium as every benchmark launches it, with the browser tests' flags
// (tests/e2e/support.mjs; see TOOLCHAIN.md).
import { chromium, CHROMIUM_ARGS } from "../tests/e2e/support.mjs";

/** A new headless Chromium. */
export const launchChromium = () => chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });

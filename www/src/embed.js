/* Bantam embed loader: the one <script> tag a marketer pastes.
 *
 *   <div id="lead-form"></div>
 *   <script type="application/json" id="bantam-config">{"formId": "demo", "preset": "bant"}</script>
 *   <script src="/dist/embed.js" data-target="#lead-form" data-config="#bantam-config" async></script>
 *
 * `data-config-url` may replace `data-config`; `data-variant` names the form variant (an A/B
 * test arm) recorded in each lead's context. Calls made before this script loads are kept by
 * the optional queue snippet `window.Bantam = window.Bantam || function () {
 * (Bantam.q = Bantam.q || []).push(arguments); };` and run once it has loaded:
 * `Bantam("on", "bantam:submit", fn)`, `Bantam("mount", target, options)`, `Bantam(fn)`.
 * The only global is `window.Bantam`.
 *
 * The build bundles this file into one classic script with mount.js and the lean module's glue
 * (`bantam_core`, what a form from a collector needs), so a page's one request for it is all
 * the JavaScript it waits for before the wasm; the full module (`bantam_full`, for a config in
 * the page) is imported when a mount needs it. The npm package's embed.js carries the full
 * module instead (the build defines `EMBED_CARRIES_FULL`). */
"use strict"; // The bundle is a classic script: strict as the modules it is made of are.
import * as core from "./bantam_core.js";
import { mounter, once, report } from "./mount.js";

/**
 * `mount(target, options)` over the modules beside `script`: the lean one (in this file) for a
 * config URL, the full one for a config in the page. What the script's own mount will fetch at
 * once (the lean module's wasm for `data-config-url`) it leaves to that mount; what a mount
 * needs later, it starts fetching now with preload links: the full module and its wasm for a
 * `data-config` (which would otherwise wait for the module's import), the lean wasm for a mount
 * called later (`Bantam("mount", …)`).
 */
function modules(script) {
  var url = function (file) {
    return new URL(file, script.src).href;
  };
  var lean = once(function () {
    return Promise.resolve(core);
  }, url("bantam_core_bg.wasm"));
  var full = EMBED_CARRIES_FULL ? lean : once(function () {
    return import(url("bantam_full.js"));
  });
  var inPage = script.getAttribute("data-config");
  var mountsNow = inPage || script.getAttribute("data-config-url");
  var preloads = !EMBED_CARRIES_FULL && inPage ? [["modulepreload", "bantam_full.js"], ["preload", "bantam_full_bg.wasm"]]
    : mountsNow ? [] : [["preload", "bantam_core_bg.wasm"]];
  preloads.forEach(function (pair) {
    var link = document.createElement("link");
    link.rel = pair[0];
    link.href = url(pair[1]);
    if (pair[0] === "preload") {
      link.as = "fetch";
      link.crossOrigin = "anonymous";
    }
    document.head.appendChild(link);
  });
  return mounter(lean, full, url("."));
}

function main() {
  var script = document.currentScript;
  if (!script || !script.src) return;
  // `window.Bantam` is ours when it is missing or the queue snippet's function; a page that
  // uses the name for something else keeps it (the form still mounts from the data attributes).
  var existing = window.Bantam;
  var ours = existing === undefined || (typeof existing === "function" && !existing.forms && (!existing.q || Array.isArray(existing.q)));
  var anotherCopy = typeof existing === "function" && Array.isArray(existing.forms);
  var queued = (ours && existing && existing.q) || [];

  var forms = [];
  // A second copy of this script on the page (two forms) mounts through the first one: one
  // module, one wasm, one outbox.
  var mountModule = anotherCopy ? existing.mount : modules(script);

  // Errors are reported (console and bantam:error) by mount.js or the widget.
  function mount(target, options) {
    return mountModule(target, options).then(function (form) {
      forms.push(form);
      return form;
    });
  }

  function run(args) {
    var command = args[0];
    if (typeof command === "function") return command(Bantam);
    if (command === "mount") return mount(args[1], args[2]);
    if (command === "on") return document.addEventListener(args[1], args[2]);
    if (command === "off") return document.removeEventListener(args[1], args[2]);
    console.error("Bantam: unknown command " + JSON.stringify(String(command)) + " (use mount, on, off or a function)");
  }

  function Bantam() {
    return run(arguments);
  }
  Bantam.mount = mount;
  Bantam.forms = forms;
  if (ours) {
    window.Bantam = Bantam;
  } else if (!anotherCopy) {
    console.warn("Bantam: window.Bantam is already used by this page, so the loader leaves it alone; the form still mounts from the script's data- attributes, and the module API (bantam.js) offers mount()");
  }
  for (var i = 0; i < queued.length; i++) run(queued[i]);

  var targetSelector = script.getAttribute("data-target");
  var configSelector = script.getAttribute("data-config");
  var configUrl = script.getAttribute("data-config-url");
  if (!configSelector && !configUrl) return;
  var target;
  if (targetSelector) {
    target = document.querySelector(targetSelector);
    if (!target) return report(null, "config", "data-target \"" + targetSelector + "\" matches no element");
  } else {
    target = document.createElement("div");
    script.parentNode.insertBefore(target, script);
  }
  var options;
  if (configSelector) {
    var holder = document.querySelector(configSelector);
    if (!holder) return report(target, "config", "data-config \"" + configSelector + "\" matches no element");
    try {
      options = { config: JSON.parse(holder.textContent) };
    } catch (e) {
      return report(target, "config", "the config in " + configSelector + " is not valid JSON: " + e.message);
    }
  } else {
    options = { configUrl: new URL(configUrl, document.baseURI).href };
  }
  var variant = script.getAttribute("data-variant");
  if (variant) options.variant = variant;
  // Errors are already reported (console and bantam:error), by mount.js or the widget.
  mount(target, options).catch(function () {});
}

main();

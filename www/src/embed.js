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
 * The only global is `window.Bantam`. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  // `window.Bantam` is ours when it is missing or the queue snippet's function; a page that
  // uses the name for something else keeps it (the form still mounts from the data attributes).
  var existing = window.Bantam;
  var ours = existing === undefined || (typeof existing === "function" && !existing.forms && (!existing.q || Array.isArray(existing.q)));
  var anotherCopy = typeof existing === "function" && Array.isArray(existing.forms);
  var queued = (ours && existing && existing.q) || [];

  // Fetch the module chain and the wasm in parallel instead of one after another: the lean
  // module for a config URL (a collector serves the compiled form), the full one, which
  // validates, for a config in the page.
  var core = script.getAttribute("data-config") ? ["bantam_full.js", "bantam_full_bg.wasm"]
    : ["bantam_core.js", "bantam_core_bg.wasm"];
  [["modulepreload", "bantam.js"], ["modulepreload", core[0]], ["preload", core[1]]]
    .forEach(function (pair) {
      var link = document.createElement("link");
      link.rel = pair[0];
      link.href = new URL(pair[1], script.src).href;
      if (pair[0] === "preload") {
        link.as = "fetch";
        link.crossOrigin = "anonymous";
      }
      document.head.appendChild(link);
    });
  var modulePromise = null;
  var forms = [];

  function load() {
    modulePromise = modulePromise || import(new URL("bantam.js", script.src).href);
    return modulePromise;
  }

  function mount(target, options) {
    return load().then(function (m) {
      return m.mount(target, options);
    }, function (error) {
      // The module could not be loaded at all (blocked by CORS or CSP, not found, offline).
      var host = typeof target === "string" ? document.querySelector(target) : target;
      var message = "could not load the widget from " + new URL("bantam.js", script.src).href + " (" +
        (error && error.message || error) + "); the page's Content-Security-Policy must allow it and the server must send CORS headers";
      fail(host, message, "load");
      error = new Error("Bantam: " + message);
      error.bantamReported = true;
      throw error;
    }).then(function (form) {
      forms.push(form);
      return form;
    });
  }

  function fail(target, message, code) {
    console.error("Bantam: " + message);
    if (target) {
      target.dispatchEvent(new CustomEvent("bantam:error", {
        bubbles: true, composed: true, detail: { code: code || "config", message: message }
      }));
    }
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
    if (!target) return fail(null, "data-target \"" + targetSelector + "\" matches no element");
  } else {
    target = document.createElement("div");
    script.parentNode.insertBefore(target, script);
  }
  var options;
  if (configSelector) {
    var holder = document.querySelector(configSelector);
    if (!holder) return fail(target, "data-config \"" + configSelector + "\" matches no element");
    try {
      options = { config: JSON.parse(holder.textContent) };
    } catch (e) {
      return fail(target, "the config in " + configSelector + " is not valid JSON: " + e.message);
    }
  } else {
    options = { configUrl: new URL(configUrl, document.baseURI).href };
  }
  var variant = script.getAttribute("data-variant");
  if (variant) options.variant = variant;
  // Errors are already reported (console and bantam:error), by the loaders or the widget.
  mount(target, options).catch(function () {});
})();

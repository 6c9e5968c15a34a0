// The live preview, framed by the editor: the real widget (the full module, which reads
// configs) mounted with each draft the editor posts, in preview mode (`preview: {step}` or
// `{thankYou}`): it keeps nothing about the visitor and sends nothing. Messages are taken
// from the parent editor page on this origin only.

const engine = await import(document.body.dataset.engine);
await engine.default();

const target = document.getElementById("form");
const problem = document.getElementById("problem");
let form = null;
let queue = Promise.resolve();

async function show({ config, preview }) {
  form?.destroy();
  form = null;
  problem.textContent = "";
  try {
    form = await engine.mount(target, { config, preview });
    document.body.dataset.shown = JSON.stringify(preview || {});
  } catch (error) {
    problem.textContent = `The preview cannot show this draft: ${error.message}`;
  }
  parent.postMessage({ bantamPreview: "shown" }, location.origin);
}

window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || event.source !== parent) return;
  const data = event.data;
  if (!data || typeof data !== "object" || !data.config) return;
  // One mount at a time, in the order the drafts came.
  queue = queue.then(() => show(data));
});
// The widget's own error events are shown in the status line as well.
target.addEventListener("bantam:error", (event) => {
  problem.textContent = event.detail?.message || "";
});

parent.postMessage({ bantamPreview: "ready" }, location.origin);

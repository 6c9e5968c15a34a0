// Benchmark probe, loaded first by every benchmark page: records layout shifts and long tasks
// from the start, and the moment the form is interactive (window.__probeDone()).
// `shiftsAfter` counts only the shifts after the form appeared (the frame after the one that
// first painted it, once interactive): the form's own appearance moves what follows it (in
// `shifts`); anything after that is a shift it causes. Entries arrive late, so they are kept
// and summed when read (`__shiftsAfter()`).
window.__probe = { shifts: 0, longTasks: 0, longTaskMs: 0, interactive: null, appeared: null };
const shifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    window.__probe.shifts += e.value;
    shifts.push(e);
  }
}).observe({ type: "layout-shift", buffered: true });
window.__shiftsAfter = () =>
  shifts.filter((e) => e.startTime > window.__probe.appeared).reduce((sum, e) => sum + e.value, 0);
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    window.__probe.longTasks += 1;
    window.__probe.longTaskMs += e.duration;
  }
}).observe({ type: "longtask", buffered: true });
window.__probeDone = () => {
  if (window.__probe.interactive !== null) return;
  window.__probe.interactive = performance.now();
  // The first frame paints the form; once the next one runs, it has appeared. The benchmark
  // learns it from the console: waiting with a script of its own in the page (Playwright's
  // waitForFunction) would run that script's 10-25 ms of evaluation on the main thread while
  // the widget starts, which no visitor's browser does.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.__probe.appeared = performance.now();
    console.debug("bantam-probe: appeared");
  }));
};
document.addEventListener("bantam:ready", () => window.__probeDone());

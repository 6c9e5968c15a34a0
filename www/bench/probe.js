// Benchmark probe, loaded first by both benchmark pages: records layout shifts and long tasks
// from the start, and the moment the form is interactive (window.__probeDone()).
// `shiftsAfter` counts only the shifts that start once the form is interactive: the form's own
// appearance moves what follows it (in `shifts`), anything after that is a shift it causes.
window.__probe = { shifts: 0, shiftsAfter: 0, longTasks: 0, longTaskMs: 0, interactive: null };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    window.__probe.shifts += e.value;
    if (window.__probe.interactive !== null && e.startTime >= window.__probe.interactive) window.__probe.shiftsAfter += e.value;
  }
}).observe({ type: "layout-shift", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    window.__probe.longTasks += 1;
    window.__probe.longTaskMs += e.duration;
  }
}).observe({ type: "longtask", buffered: true });
window.__probeDone = () => {
  if (window.__probe.interactive === null) window.__probe.interactive = performance.now();
};
document.addEventListener("bantam:ready", () => window.__probeDone());

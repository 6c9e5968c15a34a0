// Benchmark probe, loaded first by both benchmark pages: records layout shifts and long tasks
// from the start, and the moment the form is interactive (window.__probeDone()).
window.__probe = { shifts: 0, longTasks: 0, longTaskMs: 0, interactive: null };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__probe.shifts += e.value;
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

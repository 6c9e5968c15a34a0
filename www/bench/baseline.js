// The baseline page has no widget: it is "interactive" once its own script runs.
window.__probeDone();

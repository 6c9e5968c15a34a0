// The static floor's form needs no script: it is interactive once the parser gets here (after
// the stylesheets above have loaded). This only tells the probe so.
window.__probeDone();

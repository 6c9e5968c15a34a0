// Config paths as the engine writes them (`questions[2].options[1].points`,
// `delivery.values.budget.50k-250k`, `thankYouByGrade.hot.linkUrl`) and reading and writing a
// config object at one. The editor never rebuilds the config: it changes the value at a path,
// so fields it does not show (and the order of keys) stay as they were.

/**
 * Splits an engine path into keys (strings) and indices (numbers).
 * @param {string} path
 * @returns {(string|number)[]}
 */
export function parsePath(path) {
  const keys = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m;
  while ((m = re.exec(path))) keys.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return keys;
}

/** Writes keys back as an engine path. */
export function joinPath(keys) {
  let out = "";
  for (const k of keys) out += typeof k === "number" ? `[${k}]` : out ? `.${k}` : k;
  return out;
}

/** The value at `path`, or undefined. */
export function getIn(object, path) {
  let at = object;
  for (const k of parsePath(path)) {
    if (at == null || typeof at !== "object") return undefined;
    at = at[k];
  }
  return at;
}

/**
 * Sets the value at `path`, making objects (or arrays, before an index) on the way. A value of
 * `undefined` deletes the key, and then objects the deletion left empty (not arrays), so that
 * clearing a field the config did not have gives the config back as it was.
 */
export function setIn(object, path, value) {
  const keys = parsePath(path);
  const chain = [object];
  let at = object;
  for (let i = 0; i < keys.length - 1; i++) {
    if (at[keys[i]] == null || typeof at[keys[i]] !== "object") {
      if (value === undefined) return;
      at[keys[i]] = typeof keys[i + 1] === "number" ? [] : {};
    }
    at = at[keys[i]];
    chain.push(at);
  }
  const last = keys[keys.length - 1];
  if (value !== undefined) {
    at[last] = value;
    return;
  }
  if (Array.isArray(at)) return;
  delete at[last];
  for (let i = chain.length - 1; i > 0; i--) {
    const holder = chain[i - 1];
    const node = chain[i];
    if (Array.isArray(node) || Object.keys(node).length > 0) break;
    delete holder[keys[i - 1]];
  }
}

/** The paths from `path` up to the config itself: `a.b[1].c`, `a.b[1]`, `a.b`, `a`. */
export function ancestors(path) {
  const keys = parsePath(path);
  const out = [];
  for (let n = keys.length; n > 0; n--) out.push(joinPath(keys.slice(0, n)));
  return out;
}

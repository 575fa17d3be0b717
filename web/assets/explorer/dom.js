// Small DOM helpers for the explorer: elements from data, never from HTML strings.

/** `el('p', { className: 'x' }, 'text', child)`; attributes starting with `data-`/`aria-` are set as attributes. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'lang') e.setAttribute(k, String(v));
    else e[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** Fills a <dl> with [term, value, note?] rows; a value may be a string or a node. */
export function kv(dl, rows) {
  dl.replaceChildren();
  for (const [k, v, note] of rows) {
    const div = el('div', { className: 'kv-row' }, el('dt', {}, k), el('dd', {}, v));
    if (note) div.lastElementChild.append(el('span', { className: 'kv-note' }, note));
    dl.append(div);
  }
}

/** A monospace fragment. */
export const mono = (text) => el('code', {}, text);

/** A yes/no answer styled as good or bad for the user (the words come from the caller). */
export function verdict(text, good) {
  return el('span', { className: 'verdict', 'data-good': good ? 'true' : 'false' }, text);
}

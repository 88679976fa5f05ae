// Small DOM and formatting helpers shared by the views. Text always goes in through
// textContent, never innerHTML, so API data cannot inject markup.

export function el(tag, attrs = {}, ...children) {
  const ns = attrs.svg ? 'http://www.w3.org/2000/svg' : null;
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'svg' || v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else if (k === 'style') Object.assign(node.style, v);
    else if (k === 'class' && !ns) node.className = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  return el(tag, { ...attrs, svg: true }, ...children);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function fmtTime(ms) {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e9 || a < 1e-3)) return v.toExponential(3);
  if (a >= 1e6) return String(+(v / 1e6).toFixed(2)) + 'M';
  if (a >= 1e4) return String(+(v / 1e3).toFixed(1)) + 'k';
  return String(+v.toFixed(a >= 100 ? 1 : 3));
}

export function errorBox(err) {
  const code = err && err.code ? err.code + ': ' : '';
  return el('p', { class: 'error', role: 'alert', text: code + (err && err.message ? err.message : String(err)) });
}

// The hash route: "#/view?k=v&..." -> { view, params }.
export function currentRoute() {
  const h = location.hash.replace(/^#\/?/, '');
  const [view, qs] = h.split('?');
  return { view: view || 'hosts', params: new URLSearchParams(qs || '') };
}

export function setRoute(view, params, replace = true) {
  const qs = params.toString();
  const url = '#/' + view + (qs ? '?' + qs : '');
  if (replace) history.replaceState(null, '', url);
  else location.hash = url;
}

// A named time range ending now, or a custom one: returns [startMs, endMs].
export const RANGES = { '1h': 3600e3, '3h': 3 * 3600e3, '12h': 12 * 3600e3, '1d': 86400e3, '1w': 7 * 86400e3 };

export function rangeBounds(range, from, to) {
  if (range === 'custom' && from && to) {
    const s = Date.parse(from), e = Date.parse(to);
    if (!Number.isNaN(s) && !Number.isNaN(e) && e > s) return [s, e];
  }
  const now = Date.now();
  return [now - (RANGES[range] || RANGES['3h']), now];
}

export function download(name, text, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function stateBadge(state) {
  return el('span', { class: 'badge state-' + String(state).toLowerCase(), text: state });
}

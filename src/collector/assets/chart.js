// SVG charts: line, stacked area, pie and bars. One <path> per series (a thousand series are a
// thousand elements, not a thousand times the points), hover handled by one listener that looks up
// the nearest timestamp with a binary search.

import { el, svg, clear, fmtNum, fmtTime } from './util.js';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function color(i) {
  if (i < PALETTE.length) return PALETTE[i];
  return `hsl(${(i * 137.508) % 360}, 60%, 45%)`;
}

const H = 300, M = { l: 56, r: 12, t: 10, b: 26 };
let W = 800;

// Charts are drawn at the container's pixel width, so text keeps its shape.
function widthOf(container) {
  const cs = getComputedStyle(container);
  const inner = container.clientWidth - parseFloat(cs.paddingLeft || 0) - parseFloat(cs.paddingRight || 0);
  return Math.max(Math.floor(inner), 280);
}

function niceTicks(min, max, n = 5) {
  if (!(max > min)) { max = min + 1; }
  const step0 = (max - min) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function timeLabel(ms, span) {
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  const hm = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
  return span > 2 * 86400e3 ? `${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${hm}` : hm;
}

// Sorted union of every series' timestamps.
export function unionTimestamps(series) {
  const set = new Set();
  for (const s of series) for (const t of s.ts) set.add(t);
  return Float64Array.from(set).sort();
}

function nearest(sorted, x) {
  let lo = 0, hi = sorted.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1; else hi = mid;
  }
  if (lo > 0 && Math.abs(sorted[lo - 1] - x) < Math.abs(sorted[lo] - x)) lo--;
  return lo;
}

// Draw `series` ([{label, ts: [ms], vals: [number]}]) into `container`.
// opts: { type: 'line' | 'stacked' | 'pie', start, end, thresholds: [{value, label}], height }
export function drawChart(container, series, opts = {}) {
  clear(container);
  const type = opts.type || 'line';
  if (!series.length || series.every((s) => !s.ts.length)) {
    container.append(el('p', { class: 'empty', text: 'No data points in this time range.' }));
    return;
  }
  if (type === 'pie') return drawPie(container, series);
  W = widthOf(container);
  const h = opts.height || (W < 500 ? 220 : H);
  const times = unionTimestamps(series);
  const start = opts.start ?? times[0];
  const end = opts.end ?? times[times.length - 1];
  const span = Math.max(end - start, 1);
  // Per-series value at each union timestamp (stacked needs aligned values).
  const index = new Map();
  times.forEach((t, i) => index.set(t, i));
  let lo = Infinity, hi = -Infinity;
  let stacks = null;
  if (type === 'stacked') {
    stacks = [];
    let acc = new Float64Array(times.length);
    for (const s of series) {
      const top = Float64Array.from(acc);
      s.ts.forEach((t, k) => { top[index.get(t)] += s.vals[k]; });
      stacks.push({ base: acc, top });
      acc = top;
    }
    lo = 0;
    for (const v of acc) hi = Math.max(hi, v);
  } else {
    for (const s of series) for (const v of s.vals) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  for (const t of opts.thresholds || []) { lo = Math.min(lo, t.value); hi = Math.max(hi, t.value); }
  if (lo > 0 && lo < hi * 0.5) lo = 0;
  if (hi === lo) { hi = lo + 1; }
  const yt = niceTicks(lo, hi);
  lo = Math.min(lo, yt[0]); hi = Math.max(hi, yt[yt.length - 1]);
  const x = (t) => M.l + ((t - start) / span) * (W - M.l - M.r);
  const y = (v) => h - M.b - ((v - lo) / (hi - lo)) * (h - M.t - M.b);
  const root = svg('svg', { viewBox: `0 0 ${W} ${h}`, width: W, height: h, class: 'chart', role: 'img', 'aria-label': opts.title || 'chart' });
  const axes = svg('g', { class: 'axes' });
  for (const v of yt) {
    axes.append(svg('line', { x1: M.l, x2: W - M.r, y1: y(v), y2: y(v), class: 'grid' }));
    axes.append(svg('text', { x: M.l - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmtNum(v)));
  }
  for (const t of niceTimeTicks(start, end)) {
    axes.append(svg('text', { x: x(t), y: h - 8, 'text-anchor': 'middle' }, timeLabel(t, span)));
  }
  root.append(axes);
  const plot = svg('g', { class: 'series' });
  series.forEach((s, i) => {
    let d;
    if (type === 'stacked') {
      const { base, top } = stacks[i];
      const up = [], down = [];
      for (let k = 0; k < times.length; k++) up.push(`${x(times[k]).toFixed(1)},${y(top[k]).toFixed(1)}`);
      for (let k = times.length - 1; k >= 0; k--) down.push(`${x(times[k]).toFixed(1)},${y(base[k]).toFixed(1)}`);
      d = 'M' + up.join('L') + 'L' + down.join('L') + 'Z';
      plot.append(svg('path', { d, fill: color(i), 'fill-opacity': 0.55, stroke: color(i), 'stroke-width': 1, 'data-series': s.label }));
    } else {
      const pts = [];
      for (let k = 0; k < s.ts.length; k++) pts.push(`${x(s.ts[k]).toFixed(1)},${y(s.vals[k]).toFixed(1)}`);
      if (!pts.length) return;
      // A lone point is drawn as a short dash, so it can be seen.
      d = pts.length === 1 ? `M${(x(s.ts[0]) - 3).toFixed(1)},${y(s.vals[0]).toFixed(1)}h6` : 'M' + pts.join('L');
      plot.append(svg('path', { d, fill: 'none', stroke: color(i), 'stroke-width': pts.length === 1 ? 4 : 1.5, 'vector-effect': 'non-scaling-stroke', 'data-series': s.label }));
    }
  });
  root.append(plot);
  for (const t of opts.thresholds || []) {
    root.append(svg('line', { x1: M.l, x2: W - M.r, y1: y(t.value), y2: y(t.value), class: 'threshold' }));
    root.append(svg('text', { x: W - M.r - 4, y: y(t.value) - 4, 'text-anchor': 'end', class: 'threshold-label' }, t.label || `threshold ${fmtNum(t.value)}`));
  }
  const rule = svg('line', { y1: M.t, y2: h - M.b, class: 'rule', visibility: 'hidden' });
  root.append(rule);
  const wrap = el('div', { class: 'chart-wrap' });
  const tip = el('div', { class: 'tip', hidden: true });
  wrap.append(root, tip);
  container.append(wrap);
  // Hover: values at the nearest timestamp.
  let pending = false;
  root.addEventListener('mousemove', (ev) => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const box = root.getBoundingClientRect();
      const px = ((ev.clientX - box.left) / box.width) * W;
      const k = nearest(times, start + ((px - M.l) / (W - M.l - M.r)) * span);
      if (k < 0) return;
      const t = times[k];
      rule.setAttribute('x1', x(t)); rule.setAttribute('x2', x(t));
      rule.setAttribute('visibility', 'visible');
      const rows = [];
      series.forEach((s, i) => {
        const j = s.ts.indexOf(t);
        if (j >= 0) rows.push([s.vals[j], s.label, i]);
      });
      rows.sort((a, b) => b[0] - a[0]);
      clear(tip);
      tip.append(el('div', { class: 'tip-time', text: fmtTime(t) }));
      for (const [v, label, i] of rows.slice(0, 12)) {
        tip.append(el('div', {}, el('span', { class: 'swatch', style: { background: color(i) } }), `${label}: ${fmtNum(v)}`));
      }
      if (rows.length > 12) tip.append(el('div', { text: `+${rows.length - 12} more` }));
      tip.hidden = false;
      const left = ((x(t) / W) * box.width);
      tip.style.left = Math.min(left + 12, box.width - 220) + 'px';
    });
  });
  root.addEventListener('mouseleave', () => { tip.hidden = true; rule.setAttribute('visibility', 'hidden'); });
}

function niceTimeTicks(start, end) {
  const span = end - start;
  const steps = [60e3, 300e3, 900e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 2 * 86400e3];
  const step = steps.find((s) => span / s <= 7) || 7 * 86400e3;
  const out = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) out.push(t);
  return out;
}

function drawPie(container, series) {
  // Like CloudWatch's pie widget: each series' latest value.
  const parts = series.map((s, i) => ({ label: s.label, v: s.vals.length ? s.vals[s.vals.length - 1] : 0, i }))
    .filter((p) => p.v > 0);
  const total = parts.reduce((a, p) => a + p.v, 0);
  const root = svg('svg', { viewBox: '0 0 300 300', class: 'chart pie', role: 'img', 'aria-label': 'pie chart' });
  let a0 = -Math.PI / 2;
  for (const p of parts) {
    const a1 = a0 + (p.v / total) * 2 * Math.PI;
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const pt = (a) => `${(150 + 140 * Math.cos(a)).toFixed(2)},${(150 + 140 * Math.sin(a)).toFixed(2)}`;
    const d = parts.length === 1 ? 'M150,10A140,140 0 1 1 149.99,10Z' : `M150,150L${pt(a0)}A140,140 0 ${large} 1 ${pt(a1)}Z`;
    const path = svg('path', { d, fill: color(p.i), 'data-series': p.label });
    path.append(svg('title', {}, `${p.label}: ${fmtNum(p.v)} (${((p.v / total) * 100).toFixed(1)}%)`));
    root.append(path);
    a0 = a1;
  }
  container.append(el('div', { class: 'chart-wrap pie-wrap' }, root));
}

// Bars for `stats ... by bin()` results: [{label, value}].
export function drawBars(container, bars) {
  clear(container);
  if (!bars.length) return;
  W = widthOf(container);
  const h = 220;
  let hi = Math.max(...bars.map((b) => b.value), 0);
  const yt = niceTicks(0, hi || 1, 4);
  hi = yt[yt.length - 1];
  const root = svg('svg', { viewBox: `0 0 ${W} ${h}`, width: W, height: h, class: 'chart bars', role: 'img', 'aria-label': 'bar chart' });
  const bw = (W - M.l - M.r) / bars.length;
  const y = (v) => h - M.b - (v / hi) * (h - M.t - M.b);
  for (const v of yt) {
    root.append(svg('line', { x1: M.l, x2: W - M.r, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: M.l - 4, y: y(v) + 4, 'text-anchor': 'end' }, fmtNum(v)));
  }
  bars.forEach((b, i) => {
    const r = svg('rect', { x: M.l + i * bw + bw * 0.1, width: Math.max(bw * 0.8, 1), y: y(b.value), height: h - M.b - y(b.value), fill: color(0), 'data-label': b.label });
    r.append(svg('title', {}, `${b.label}: ${fmtNum(b.value)}`));
    root.append(r);
  });
  const every = Math.ceil(bars.length / 6);
  bars.forEach((b, i) => {
    if (i % every === 0) root.append(svg('text', { x: M.l + i * bw + bw / 2, y: h - 8, 'text-anchor': 'middle' }, b.label.slice(11, 16) || b.label));
  });
  container.append(el('div', { class: 'chart-wrap' }, root));
}

export function legend(series, max = 100) {
  const list = el('ul', { class: 'legend' });
  series.slice(0, max).forEach((s, i) => list.append(el('li', {}, el('span', { class: 'swatch', style: { background: color(i) } }), s.label)));
  if (series.length > max) list.append(el('li', { text: `+${series.length - max} more series` }));
  return list;
}

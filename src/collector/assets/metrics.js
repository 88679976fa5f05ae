// Metrics explorer: browse namespaces, metrics and dimensions (ListMetrics), chart several series
// (GetMetricData). Everything the chart shows is in the URL (#/metrics?q=...&range=...), so a
// link to the page is a link to the chart.

import { cw, all } from './api.js';
import { el, clear, errorBox, setRoute, rangeBounds, RANGES, download, fmtTime } from './util.js';
import { drawChart, legend, unionTimestamps } from './chart.js';

const STAT_RE = /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?|p100)$/;
const PERIODS = [[1, '1 s'], [60, '1 min'], [300, '5 min'], [3600, '1 h']];
const REFRESH = [[0, 'Off'], [10, '10 s'], [60, '1 min'], [300, '5 min']];

let catalogue = []; // every metric from ListMetrics, loaded when the view opens

export async function listAllMetrics(body = {}) {
  return all(cw, 'ListMetrics', body, 'Metrics');
}

export function seriesLabel(spec) {
  const dims = Object.entries(spec.d || {}).map(([k, v]) => `${k}=${v}`).join(' ');
  return spec.m + (dims ? ' ' + dims : '');
}

export function specOf(metric) {
  const d = {};
  for (const x of metric.Dimensions || []) d[x.Name] = x.Value;
  return { ns: metric.Namespace, m: metric.MetricName, d };
}

const keyOf = (spec) => JSON.stringify([spec.ns, spec.m, Object.entries(spec.d || {}).sort()]);

// GetMetricData for `specs` (or ready-made queries), in batches of 500, every page.
// Returns [{label, ts: [ms], vals: [number]}] in the order of `specs`.
export async function fetchSeries(specs, start, end, period, stat, labels) {
  const out = specs.map((s, i) => ({ label: labels ? labels[i] : seriesLabel(s), ts: [], vals: [] }));
  for (let b = 0; b < specs.length; b += 500) {
    const batch = specs.slice(b, b + 500);
    const queries = batch.map((s, i) => (s.expr
      ? { Id: 'e' + (b + i), Expression: s.expr, ReturnData: true }
      : {
        Id: 'm' + (b + i),
        MetricStat: {
          Metric: { Namespace: s.ns, MetricName: s.m, Dimensions: Object.entries(s.d || {}).map(([Name, Value]) => ({ Name, Value })) },
          Period: period,
          Stat: stat,
        },
        ReturnData: true,
      }));
    let token;
    do {
      const body = { MetricDataQueries: queries, StartTime: Math.floor(start / 1000), EndTime: Math.ceil(end / 1000), ScanBy: 'TimestampAscending' };
      if (token) body.NextToken = token;
      const r = await cw('GetMetricData', body);
      for (const res of r.MetricDataResults || []) {
        const i = Number(res.Id.slice(1));
        const ts = res.Timestamps || [], vs = res.Values || [];
        for (let k = 0; k < ts.length; k++) {
          out[i].ts.push(typeof ts[k] === 'number' ? ts[k] * 1000 : Date.parse(ts[k]));
          out[i].vals.push(vs[k]);
        }
      }
      token = r.NextToken;
    } while (token);
  }
  for (const s of out) {
    const order = s.ts.map((t, i) => i).sort((a, b) => s.ts[a] - s.ts[b]);
    s.ts = order.map((i) => s.ts[i]);
    s.vals = order.map((i) => s.vals[i]);
  }
  return out;
}

export function toCsv(series) {
  const times = unionTimestamps(series);
  const esc = (v) => (/[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v);
  const lines = [['Timestamp', ...series.map((s) => s.label)].map(esc).join(',')];
  const maps = series.map((s) => new Map(s.ts.map((t, i) => [t, s.vals[i]])));
  for (const t of times) lines.push([fmtTime(t), ...maps.map((m) => (m.has(t) ? String(m.get(t)) : ''))].join(','));
  return lines.join('\n') + '\n';
}

function readState(params) {
  let q = [];
  try { q = JSON.parse(params.get('q') || '[]'); } catch { q = []; }
  if (!Array.isArray(q)) q = [];
  const stat = params.get('stat') || 'Average';
  return {
    q: q.filter((s) => s && typeof s.ns === 'string' && typeof s.m === 'string'),
    ns: params.get('ns') || '',
    search: params.get('search') || '',
    range: params.get('range') || '3h',
    from: params.get('from') || '',
    to: params.get('to') || '',
    period: Number(params.get('period')) || 60,
    stat: STAT_RE.test(stat) ? stat : 'Average',
    type: ['line', 'stacked', 'pie'].includes(params.get('type')) ? params.get('type') : 'line',
    refresh: Number(params.get('refresh')) || 0,
  };
}

function writeState(st) {
  const p = new URLSearchParams();
  if (st.q.length) p.set('q', JSON.stringify(st.q));
  if (st.ns) p.set('ns', st.ns);
  if (st.search) p.set('search', st.search);
  p.set('range', st.range);
  if (st.range === 'custom') { p.set('from', st.from); p.set('to', st.to); }
  p.set('period', st.period);
  p.set('stat', st.stat);
  p.set('type', st.type);
  if (st.refresh) p.set('refresh', st.refresh);
  setRoute('metrics', p);
}

export function render(view, params) {
  const st = readState(params);
  let timer = null;
  let lastSeries = [];
  let drawSeq = 0;

  const nsList = el('ul', { class: 'pick-list', id: 'namespaces', 'aria-label': 'Namespaces' });
  const search = el('input', { type: 'search', id: 'metric-search', placeholder: 'Search metrics and dimensions', value: st.search, 'aria-label': 'Search metrics' });
  const metricList = el('ul', { class: 'pick-list metrics', id: 'metric-list', 'aria-label': 'Metrics' });
  const browser = el('aside', { class: 'browser' }, el('h2', { text: 'Namespaces' }), nsList, el('h2', { text: 'Metrics' }), search, metricList);

  const rangeButtons = el('div', { class: 'seg', role: 'group', 'aria-label': 'Time range' });
  const fromIn = el('input', { type: 'datetime-local', id: 'range-from', 'aria-label': 'From (UTC)', value: st.from });
  const toIn = el('input', { type: 'datetime-local', id: 'range-to', 'aria-label': 'To (UTC)', value: st.to });
  const custom = el('span', { class: 'custom-range', hidden: st.range !== 'custom' }, fromIn, toIn);
  const periodSel = el('select', { id: 'period', 'aria-label': 'Period' }, PERIODS.map(([v, l]) => el('option', { value: v, text: l, selected: v === st.period })));
  const statIn = el('input', { id: 'stat', list: 'stats', value: st.stat, size: 11, 'aria-label': 'Statistic' });
  const statList = el('datalist', { id: 'stats' }, ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount', 'p50', 'p90', 'p99'].map((s) => el('option', { value: s })));
  const typeSel = el('select', { id: 'chart-type', 'aria-label': 'Chart type' }, [['line', 'Line'], ['stacked', 'Stacked area'], ['pie', 'Pie']].map(([v, l]) => el('option', { value: v, text: l, selected: v === st.type })));
  const refreshSel = el('select', { id: 'refresh', 'aria-label': 'Auto-refresh' }, REFRESH.map(([v, l]) => el('option', { value: v, text: 'Refresh: ' + l, selected: v === st.refresh })));
  const csvBtn = el('button', { type: 'button', id: 'download-csv', text: 'Download CSV' });
  const clearBtn = el('button', { type: 'button', id: 'clear-series', text: 'Clear' });
  const saveBtn = el('button', { type: 'button', id: 'add-to-dashboard', text: 'Add to dashboard' });
  const status = el('p', { class: 'status', id: 'chart-status', role: 'status' });
  const chartBox = el('div', { id: 'chart', class: 'chart-box' });
  const legendBox = el('div', { id: 'legend' });
  const controls = el('div', { class: 'controls' }, rangeButtons, custom, periodSel, statIn, statList, typeSel, refreshSel, csvBtn, saveBtn, clearBtn);
  const panel = el('section', { class: 'panel' }, el('h1', { text: 'Metrics' }), controls, status, chartBox, legendBox);
  view.append(el('div', { class: 'explorer' }, browser, panel));

  for (const r of [...Object.keys(RANGES), 'custom']) {
    rangeButtons.append(el('button', {
      type: 'button', 'data-range': r, 'aria-pressed': String(r === st.range), text: r,
      onclick: () => {
        st.range = r;
        custom.hidden = r !== 'custom';
        if (r === 'custom' && !(st.from && st.to)) {
          const [s, e] = rangeBounds('3h');
          st.from = fromIn.value = new Date(s).toISOString().slice(0, 16);
          st.to = toIn.value = new Date(e).toISOString().slice(0, 16);
        }
        for (const b of rangeButtons.children) b.setAttribute('aria-pressed', String(b.dataset.range === r));
        update();
      },
    }));
  }
  fromIn.onchange = toIn.onchange = () => { st.from = fromIn.value; st.to = toIn.value; update(); };
  periodSel.onchange = () => { st.period = Number(periodSel.value); update(); };
  statIn.onchange = () => {
    if (STAT_RE.test(statIn.value.trim())) { st.stat = statIn.value.trim(); statIn.removeAttribute('aria-invalid'); update(); }
    else statIn.setAttribute('aria-invalid', 'true');
  };
  typeSel.onchange = () => { st.type = typeSel.value; update(); };
  refreshSel.onchange = () => { st.refresh = Number(refreshSel.value); schedule(); writeState(st); };
  clearBtn.onclick = () => { st.q = []; renderMetricList(); update(); };
  csvBtn.onclick = () => download('metrics.csv', toCsv(lastSeries));
  saveBtn.onclick = async () => {
    if (!st.q.length) return;
    const name = (window.prompt('Add this chart to the dashboard named:', 'explorer') || '').trim();
    if (!name) return;
    try {
      await addToDashboard(name, st);
      status.textContent = '';
      status.append('Added to ', el('a', { href: '#/dashboards?' + new URLSearchParams({ name }), text: name }), '.');
    } catch (e) { clear(chartBox).append(errorBox(e)); }
  };
  let searchTimer;
  search.oninput = () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { st.search = search.value; writeState(st); renderMetricList(); }, 120); };

  const selected = () => new Set(st.q.map(keyOf));

  function renderNamespaces() {
    clear(nsList);
    const names = [...new Set(catalogue.map((m) => m.Namespace))].sort();
    if (!st.ns && names.length) st.ns = names.includes('CWAgent') ? 'CWAgent' : names[0];
    for (const n of names) {
      nsList.append(el('li', {}, el('button', {
        type: 'button', 'aria-pressed': String(n === st.ns), text: n, 'data-namespace': n,
        onclick: () => { st.ns = n; writeState(st); renderNamespaces(); renderMetricList(); },
      })));
    }
  }

  function renderMetricList() {
    clear(metricList);
    const words = st.search.toLowerCase().split(/\s+/).filter(Boolean);
    const sel = selected();
    const matches = catalogue.filter((m) => m.Namespace === st.ns).map(specOf)
      .filter((s) => { const text = seriesLabel(s).toLowerCase(); return words.every((w) => text.includes(w)); })
      .sort((a, b) => seriesLabel(a).localeCompare(seriesLabel(b)));
    const shown = matches.slice(0, 300);
    const frag = document.createDocumentFragment();
    for (const s of shown) {
      const on = sel.has(keyOf(s));
      frag.append(el('li', {}, el('button', {
        type: 'button', class: 'metric', 'aria-pressed': String(on), 'data-metric': s.m, title: seriesLabel(s),
        onclick: (ev) => {
          const k = keyOf(s);
          if (selected().has(k)) st.q = st.q.filter((x) => keyOf(x) !== k);
          else st.q.push(s);
          ev.currentTarget.setAttribute('aria-pressed', String(selected().has(k)));
          update();
        },
      }, el('span', { class: 'm', text: s.m }), el('span', { class: 'dims', text: Object.entries(s.d).map(([k, v]) => `${k}=${v}`).join(' ') }))));
    }
    metricList.append(frag);
    if (matches.length > shown.length) metricList.append(el('li', { class: 'more', text: `${matches.length - shown.length} more: refine the search` }));
    if (!matches.length) metricList.append(el('li', { class: 'more', text: 'No metric matches.' }));
  }

  async function draw() {
    const seq = ++drawSeq;
    if (!st.q.length) {
      lastSeries = [];
      clear(chartBox).append(el('p', { class: 'empty', text: 'Pick one or more metrics on the left.' }));
      clear(legendBox);
      status.textContent = '';
      return;
    }
    const [start, end] = rangeBounds(st.range, st.from && st.from + 'Z', st.to && st.to + 'Z');
    status.textContent = 'Loading…';
    const t0 = performance.now();
    try {
      const series = await fetchSeries(st.q, start, end, st.period, st.stat);
      if (seq !== drawSeq) return;
      const t1 = performance.now();
      lastSeries = series;
      drawChart(chartBox, series, { type: st.type, start, end, title: 'Metrics chart' });
      clear(legendBox).append(legend(series));
      const t2 = performance.now();
      const points = series.reduce((a, s) => a + s.ts.length, 0);
      status.textContent = `${series.length} series, ${points} points, ${st.stat} per ${st.period} s; fetched in ${Math.round(t1 - t0)} ms, drawn in ${Math.round(t2 - t1)} ms`;
      // CloudWatch serves sub-minute periods only for the last three hours.
      if (st.period < 60 && start < Date.now() - 3 * 3600e3) status.textContent += '. Periods under a minute cover the last 3 hours only: pick 1h or a period of 1 min or more.';
      status.dataset.fetchMs = String(Math.round(t1 - t0));
      status.dataset.drawMs = String(Math.round(t2 - t1));
    } catch (e) {
      if (seq !== drawSeq) return;
      status.textContent = '';
      clear(chartBox).append(errorBox(e));
    }
  }

  function schedule() {
    clearInterval(timer);
    if (st.refresh > 0) timer = setInterval(draw, st.refresh * 1000);
  }

  function update() { writeState(st); draw(); }

  (async () => {
    try {
      metricList.append(el('li', { class: 'more', text: 'Loading metrics…' }));
      catalogue = await listAllMetrics();
      renderNamespaces();
      renderMetricList();
    } catch (e) { clear(metricList).append(errorBox(e)); }
  })();
  writeState(st);
  draw();
  schedule();
  return () => clearInterval(timer);
}


// Append the explorer's chart to a saved dashboard (created when missing) as a metric widget
// below the existing ones.
async function addToDashboard(name, st) {
  let body = { widgets: [] };
  try {
    body = JSON.parse((await cw('GetDashboard', { DashboardName: name })).DashboardBody);
  } catch (e) {
    if (e.code !== 'ResourceNotFound' && e.code !== 'DashboardNotFoundError') throw e;
  }
  const widgets = Array.isArray(body.widgets) ? body.widgets : (body.widgets = []);
  const y = widgets.reduce((m, w) => Math.max(m, (w.y || 0) + (w.height || 6)), 0);
  widgets.push({
    type: 'metric', x: 0, y, width: 24, height: 6,
    properties: {
      title: st.q.length === 1 ? seriesLabel(st.q[0]) : `${st.q.length} series`,
      metrics: st.q.map((s) => [s.ns, s.m, ...Object.entries(s.d || {}).flat()]),
      view: st.type === 'pie' ? 'pie' : 'timeSeries', stacked: st.type === 'stacked',
      stat: st.stat, period: st.period,
    },
  });
  await cw('PutDashboard', { DashboardName: name, DashboardBody: JSON.stringify(body) });
}

// The fleet at a glance: every agent's cpu, memory, disk and network (namespace CWAgent, by the
// `host` dimension), one chart per resource with one series per host.

import { el, clear, errorBox, setRoute, rangeBounds } from './util.js';
import { drawChart, legend } from './chart.js';
import { listAllMetrics, fetchSeries, specOf } from './metrics.js';

const PANELS = [
  { title: 'CPU used (%)', metric: 'cpu_usage_idle', where: (d) => d.cpu === 'cpu-total', invert: true },
  { title: 'CPU user (%)', metric: 'cpu_usage_user', where: (d) => !d.cpu || d.cpu === 'cpu-total' },
  { title: 'Memory used (%)', metric: 'mem_used_percent' },
  { title: 'Disk used (%)', metric: 'disk_used_percent' },
  { title: 'Network received (bytes)', metric: 'net_bytes_recv' },
  { title: 'Network sent (bytes)', metric: 'net_bytes_sent' },
];

const label = (s) => [s.d.host || '(no host)', ...Object.entries(s.d).filter(([k]) => k !== 'host').map(([k, v]) => `${k}=${v}`)].join(' ');

export function render(view, params) {
  const range = params.get('range') || '3h';
  const head = el('div', { class: 'row' }, el('h1', { text: 'Hosts' }));
  const seg = el('div', { class: 'seg', role: 'group', 'aria-label': 'Time range' });
  for (const r of ['1h', '3h', '12h', '1d', '1w']) {
    seg.append(el('button', { type: 'button', 'aria-pressed': String(r === range), text: r, onclick: () => { setRoute('hosts', new URLSearchParams({ range: r })); window.dispatchEvent(new Event('hashchange')); } }));
  }
  head.append(seg);
  const hosts = el('p', { class: 'status', id: 'host-list' });
  const grid = el('div', { class: 'grid' });
  view.append(head, hosts, grid);
  let timer;
  async function load() {
    try {
      const metrics = (await listAllMetrics({ Namespace: 'CWAgent' })).map(specOf);
      const names = [...new Set(metrics.map((s) => s.d.host).filter(Boolean))].sort();
      hosts.textContent = names.length ? `${names.length} host${names.length > 1 ? 's' : ''}: ${names.join(', ')}` : 'No agent has shipped CWAgent metrics yet.';
      const [start, end] = rangeBounds(range);
      const period = range === '1w' ? 3600 : range === '1d' ? 300 : 60;
      clear(grid);
      for (const p of PANELS) {
        const specs = metrics.filter((s) => s.m === p.metric && (!p.where || p.where(s.d))).slice(0, 100);
        if (!specs.length) continue;
        const box = el('div', { class: 'chart-box' });
        const q = new URLSearchParams({ q: JSON.stringify(specs), range, period: String(period), stat: 'Average' });
        grid.append(el('section', { class: 'card' }, el('div', { class: 'row' }, el('h2', { text: p.title }), el('a', { href: '#/metrics?' + q, text: 'Explore' })), box));
        const series = await fetchSeries(specs, start, end, period, 'Average', specs.map(label));
        if (p.invert) for (const s of series) s.vals = s.vals.map((v) => 100 - v);
        drawChart(box, series, { start, end, height: 200, title: p.title });
        box.append(legend(series, 20));
      }
    } catch (e) { clear(grid).append(errorBox(e)); }
  }
  load();
  timer = setInterval(load, 60000);
  return () => clearInterval(timer);
}

// Saved dashboards (PutDashboard / GetDashboard / ListDashboards / DeleteDashboards), rendered
// from CloudWatch's dashboard-body JSON: widgets of type metric, text, alarm and log laid out on
// the 24-column grid by their x, y, width and height.

import { cw, logs, all } from './api.js';
import { el, clear, errorBox, setRoute, stateBadge, fmtTime, fmtNum } from './util.js';
import { drawChart, legend } from './chart.js';
import { listAllMetrics, specOf } from './metrics.js';

export function render(view, params) {
  const name = params.get('name');
  return name ? renderOne(view, name) : renderList(view);
}

function renderList(view) {
  const body = el('div', { id: 'dashboard-list' }, el('p', { class: 'status', text: 'Loading…' }));
  const nameIn = el('input', { id: 'new-dashboard', placeholder: 'new-dashboard-name', 'aria-label': 'New dashboard name', pattern: '[A-Za-z0-9_\\-]+' });
  const msg = el('div', { role: 'status' });
  const form = el('form', { class: 'controls' }, nameIn, el('button', { type: 'submit', text: 'Create' }),
    el('button', { type: 'button', id: 'save-hosts', text: 'Save the hosts overview as "hosts"', onclick: saveHosts }));
  view.append(el('h1', { text: 'Dashboards' }), form, msg, body);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clear(msg);
    const text = JSON.stringify({ widgets: [{ type: 'text', x: 0, y: 0, width: 24, height: 2, properties: { markdown: `# ${nameIn.value}\nEdit the JSON to add widgets.` } }] });
    try {
      await cw('PutDashboard', { DashboardName: nameIn.value.trim(), DashboardBody: text });
      setRoute('dashboards', new URLSearchParams({ name: nameIn.value.trim() }), false);
    } catch (e) { msg.append(errorBox(e)); }
  };
  async function saveHosts() {
    clear(msg);
    try {
      const text = JSON.stringify(await hostsBody());
      await cw('PutDashboard', { DashboardName: 'hosts', DashboardBody: text });
      setRoute('dashboards', new URLSearchParams({ name: 'hosts' }), false);
    } catch (e) { msg.append(errorBox(e)); }
  }
  (async () => {
    try {
      const list = await all(cw, 'ListDashboards', {}, 'DashboardEntries');
      clear(body);
      if (!list.length) { body.append(el('p', { class: 'empty', text: 'No saved dashboards yet.' })); return; }
      body.append(el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, ['Name', 'Last modified', 'Size'].map((h) => el('th', { text: h })))),
        el('tbody', {}, list.map((d) => el('tr', {},
          el('td', {}, el('a', { href: '#/dashboards?' + new URLSearchParams({ name: d.DashboardName }), text: d.DashboardName, 'data-dashboard': d.DashboardName })),
          el('td', { text: fmtTime(typeof d.LastModified === 'number' ? d.LastModified * 1000 : Date.parse(d.LastModified)) }),
          el('td', { text: `${d.Size} bytes` })))))));
    } catch (e) { clear(body).append(errorBox(e)); }
  })();
  return null;
}

// The default "hosts" dashboard: cpu, memory, disk and network of every host that ships
// CWAgent metrics, one widget per resource, one line per host.
export async function hostsBody() {
  const metrics = (await listAllMetrics({ Namespace: 'CWAgent' })).map(specOf);
  const panels = [
    ['CPU user (%)', 'cpu_usage_user', (d) => !d.cpu || d.cpu === 'cpu-total'],
    ['Memory used (%)', 'mem_used_percent'],
    ['Disk used (%)', 'disk_used_percent'],
    ['Network received (bytes)', 'net_bytes_recv'],
    ['Network sent (bytes)', 'net_bytes_sent'],
  ];
  const widgets = [{ type: 'text', x: 0, y: 0, width: 24, height: 2, properties: { markdown: '# Hosts\nEvery agent\'s cpu, memory, disk and network (namespace CWAgent, by host).' } }];
  let i = 0;
  for (const [title, metric, where] of panels) {
    const rows = metrics.filter((s) => s.m === metric && (!where || where(s.d))).slice(0, 100)
      .map((s) => ['CWAgent', metric, ...Object.entries(s.d).flat()]);
    if (!rows.length) continue;
    widgets.push({ type: 'metric', x: (i % 2) * 12, y: 2 + Math.floor(i / 2) * 6, width: 12, height: 6, properties: { title, metrics: rows, view: 'timeSeries', stat: 'Average', period: 60, region: 'us-east-1' } });
    i++;
  }
  return { start: '-PT3H', widgets };
}

// "-PT3H", "-P1D", "-PT15M" -> milliseconds before now (default 3 h).
export function relativeStart(text) {
  const m = /^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text || '');
  if (!m) return 3 * 3600e3;
  const [w, d, h, min, s] = m.slice(1).map((x) => Number(x || 0));
  return ((((w * 7 + d) * 24 + h) * 60 + min) * 60 + s) * 1000 || 3 * 3600e3;
}

// A metric widget's "metrics" rows into GetMetricData queries. "." repeats the item at the same
// position of the previous row; a trailing object carries options (stat, period, label, id,
// visible, expression).
export function widgetQueries(props) {
  const queries = [];
  let prev = [];
  (props.metrics || []).forEach((row, i) => {
    const last = row[row.length - 1];
    const opts = last && typeof last === 'object' ? last : {};
    const items = (opts === last ? row.slice(0, -1) : row).map((x, k) => (x === '.' ? prev[k] : x));
    prev = items;
    const id = opts.id || `w${i}`;
    if (opts.expression) {
      queries.push({ Id: id, Expression: opts.expression, Label: opts.label, ReturnData: opts.visible !== false });
      return;
    }
    const [ns, name, ...dims] = items;
    const Dimensions = [];
    for (let k = 0; k + 1 < dims.length; k += 2) Dimensions.push({ Name: dims[k], Value: dims[k + 1] });
    queries.push({
      Id: id,
      MetricStat: { Metric: { Namespace: ns, MetricName: name, Dimensions }, Period: opts.period || props.period || 300, Stat: opts.stat || props.stat || 'Average' },
      Label: opts.label || [name, ...Dimensions.map((x) => x.Value)].join(' '),
      ReturnData: opts.visible !== false,
    });
  });
  return queries;
}

function renderOne(view, name) {
  const grid = el('div', { class: 'dash-grid', id: 'dashboard-grid' });
  const msg = el('div', { id: 'dashboard-status' });
  const editor = el('textarea', { id: 'dashboard-json', rows: 16, spellcheck: 'false', 'aria-label': 'Dashboard body JSON' });
  const save = el('button', { type: 'submit', id: 'save-dashboard', text: 'Save' });
  const editForm = el('form', { class: 'editor', hidden: true }, editor, el('div', { class: 'controls' }, save));
  const editBtn = el('button', { type: 'button', id: 'edit-dashboard', 'aria-pressed': 'false', text: 'Edit JSON', onclick: () => { editForm.hidden = !editForm.hidden; editBtn.setAttribute('aria-pressed', String(!editForm.hidden)); } });
  const delBtn = el('button', { type: 'button', id: 'delete-dashboard', text: 'Delete', onclick: del });
  view.append(el('div', { class: 'row' }, el('a', { href: '#/dashboards', text: '← Dashboards' }), el('h1', { text: name }), el('span', {}, editBtn, ' ', delBtn)), msg, editForm, grid);
  editForm.onsubmit = async (ev) => {
    ev.preventDefault();
    clear(msg);
    try {
      await cw('PutDashboard', { DashboardName: name, DashboardBody: editor.value });
      load();
    } catch (e) { msg.append(errorBox(e)); }
  };
  async function del() {
    if (!window.confirm(`Delete dashboard ${name}?`)) return;
    try {
      await cw('DeleteDashboards', { DashboardNames: [name] });
      setRoute('dashboards', new URLSearchParams(), false);
    } catch (e) { msg.append(errorBox(e)); }
  }
  let timer;
  async function load() {
    try {
      const d = await cw('GetDashboard', { DashboardName: name });
      editor.value = JSON.stringify(JSON.parse(d.DashboardBody), null, 2);
      const body = JSON.parse(d.DashboardBody);
      clear(grid);
      const end = Date.now();
      const start = end - relativeStart(body.start);
      for (const w of body.widgets || []) grid.append(widget(w, start, end));
    } catch (e) { clear(grid); msg.append(errorBox(e)); }
  }
  load();
  timer = setInterval(load, 60000);
  return () => clearInterval(timer);
}

function widget(w, start, end) {
  const props = w.properties || {};
  const box = el('section', { class: 'card widget', 'data-type': w.type });
  const width = w.width || 6, height = w.height || 6;
  box.style.gridColumn = (w.x !== undefined ? `${w.x + 1} / ` : '') + `span ${Math.min(width, 24)}`;
  box.style.gridRow = (w.y !== undefined ? `${w.y + 1} / ` : '') + `span ${height}`;
  if (props.title) box.append(el('h2', { text: props.title }));
  const content = el('div', { class: 'widget-body' });
  box.append(content);
  const fail = (e) => clear(content).append(errorBox(e));
  if (w.type === 'text') markdown(content, props.markdown || '');
  else if (w.type === 'metric') metricWidget(content, props, start, end).catch(fail);
  else if (w.type === 'alarm') alarmWidget(content, props).catch(fail);
  else if (w.type === 'log') logWidget(content, props, start, end).catch(fail);
  else content.append(el('p', { class: 'empty', text: `Widgets of type ${w.type} are not shown here.` }));
  return box;
}

async function metricWidget(content, props, start, end) {
  const queries = widgetQueries(props);
  if (!queries.length) { content.append(el('p', { class: 'empty', text: 'No metrics.' })); return; }
  const r = await cw('GetMetricData', { MetricDataQueries: queries, StartTime: Math.floor(start / 1000), EndTime: Math.ceil(end / 1000), ScanBy: 'TimestampAscending' });
  const series = (r.MetricDataResults || []).map((x) => ({ label: x.Label || x.Id, ts: (x.Timestamps || []).map((t) => (typeof t === 'number' ? t * 1000 : Date.parse(t))), vals: x.Values || [] }));
  if (props.view === 'singleValue') {
    content.append(el('div', { class: 'single' }, series.map((s) => el('div', {}, el('span', { class: 'big', text: s.vals.length ? fmtNum(s.vals[s.vals.length - 1]) : '–' }), el('span', { text: s.label })))));
    return;
  }
  const type = props.view === 'pie' ? 'pie' : props.stacked ? 'stacked' : 'line';
  const chart = el('div', { class: 'chart-box' });
  content.append(chart);
  drawChart(chart, series, { type, start, end, height: 180, title: props.title || 'metric widget' });
  content.append(legend(series, 20));
}

async function alarmWidget(content, props) {
  const names = (props.alarms || []).map((a) => String(a).split(':alarm:').pop());
  if (!names.length) return;
  const r = await cw('DescribeAlarms', { AlarmNames: names.slice(0, 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
  const found = new Map([...(r.MetricAlarms || []), ...(r.CompositeAlarms || [])].map((a) => [a.AlarmName, a]));
  content.append(el('ul', { class: 'alarm-widget' }, names.map((n) => el('li', {},
    found.has(n) ? stateBadge(found.get(n).StateValue) : el('span', { class: 'badge', text: 'unknown' }), ' ',
    el('a', { href: '#/alarms?' + new URLSearchParams({ name: n }), text: n })))));
}

async function logWidget(content, props, start, end) {
  // "SOURCE 'a' | SOURCE 'b' | fields ..." names the log groups.
  const groups = [...props.query.matchAll(/SOURCE\s+'([^']+)'/g)].map((m) => m[1]);
  const queryString = props.query.replace(/SOURCE\s+'[^']+'\s*\|\s*/g, '');
  const { queryId } = await logs('StartQuery', { logGroupNames: groups, startTime: Math.floor(start / 1000), endTime: Math.ceil(end / 1000), queryString });
  let r;
  for (let i = 0; i < 120; i++) {
    r = await logs('GetQueryResults', { queryId });
    if (!['Scheduled', 'Running'].includes(r.status)) break;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  const rows = r.results || [];
  const fields = [...new Set(rows.flatMap((row) => row.map((f) => f.field)).filter((f) => f !== '@ptr'))];
  content.append(el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, fields.map((f) => el('th', { text: f })))),
    el('tbody', {}, rows.map((row) => { const m = new Map(row.map((f) => [f.field, f.value])); return el('tr', {}, fields.map((f) => el('td', { text: m.get(f) ?? '' }))); })))));
}

// Enough Markdown for text widgets: headings, bullet lists, paragraphs, links. Text only: no
// HTML from the body reaches the page.
function markdown(box, text) {
  let list = null;
  for (const line of text.split('\n')) {
    const h = /^(#{1,3})\s+(.*)$/.exec(line);
    const li = /^\s*[-*]\s+(.*)$/.exec(line);
    if (li) {
      if (!list) { list = el('ul'); box.append(list); }
      list.append(inline(el('li'), li[1]));
      continue;
    }
    list = null;
    if (h) box.append(inline(el('h' + (h[1].length + 1)), h[2]));
    else if (line.trim()) box.append(inline(el('p'), line));
  }
}

function inline(node, text) {
  const re = /\[([^\]]+)\]\((https?:\/\/[^)\s]+|#[^)\s]*)\)/g;
  let at = 0, m;
  while ((m = re.exec(text))) {
    node.append(text.slice(at, m.index), el('a', { href: m[2], text: m[1], rel: 'noopener noreferrer' }));
    at = m.index + m[0].length;
  }
  node.append(text.slice(at));
  return node;
}

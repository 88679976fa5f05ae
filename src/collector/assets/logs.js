// Logs: groups and streams (DescribeLogGroups / DescribeLogStreams), events (GetLogEvents, or
// FilterLogEvents with a filter pattern), a live tail that polls every second, and a Logs
// Insights query box (StartQuery / GetQueryResults) with a results table and a bar chart for
// `stats ... by bin(...)`. Operations the collector does not offer show the API's own error.

import { logs } from './api.js';
import { el, clear, errorBox, setRoute, fmtTime, rangeBounds } from './util.js';
import { drawBars } from './chart.js';

export function render(view, params) {
  const group = params.get('group') || '';
  const stream = params.get('stream') || '';
  const tab = params.get('tab') === 'insights' ? 'insights' : 'events';
  const go = (p) => setRoute('logs', new URLSearchParams(p), false);

  const prefix = el('input', { type: 'search', id: 'group-prefix', placeholder: 'Log group prefix', 'aria-label': 'Log group prefix' });
  const groups = el('ul', { class: 'pick-list', id: 'log-groups', 'aria-label': 'Log groups' });
  const aside = el('aside', { class: 'browser' }, el('h2', { text: 'Log groups' }), prefix, groups);
  const panel = el('section', { class: 'panel' });
  view.append(el('div', { class: 'explorer' }, aside, panel));
  let cleanup = null;

  async function loadGroups() {
    try {
      const body = { limit: 50 };
      if (prefix.value) body.logGroupNamePrefix = prefix.value;
      const r = await logs('DescribeLogGroups', body);
      clear(groups);
      for (const g of r.logGroups || []) {
        groups.append(el('li', {}, el('button', { type: 'button', 'aria-pressed': String(g.logGroupName === group), text: g.logGroupName, 'data-group': g.logGroupName, onclick: () => go({ group: g.logGroupName, tab }) })));
      }
      if (!(r.logGroups || []).length) groups.append(el('li', { class: 'more', text: 'No log groups.' }));
    } catch (e) { clear(groups).append(errorBox(e)); }
  }
  let t;
  prefix.oninput = () => { clearTimeout(t); t = setTimeout(loadGroups, 200); };
  loadGroups();

  if (!group) {
    panel.append(el('h1', { text: 'Logs' }), el('p', { class: 'empty', text: 'Pick a log group.' }));
    return null;
  }
  const tabs = el('div', { class: 'seg', role: 'group', 'aria-label': 'View' },
    el('button', { type: 'button', id: 'tab-events', 'aria-pressed': String(tab === 'events'), text: 'Events', onclick: () => go({ group, tab: 'events' }) }),
    el('button', { type: 'button', id: 'tab-insights', 'aria-pressed': String(tab === 'insights'), text: 'Insights', onclick: () => go({ group, tab: 'insights' }) }));
  panel.append(el('div', { class: 'row' }, el('h1', { text: group }), tabs));
  if (tab === 'insights') renderInsights(panel, group);
  else cleanup = renderEvents(panel, group, stream, go);
  return () => cleanup && cleanup();
}

function eventRows(events) {
  return events.map((e) => el('tr', {}, el('td', {}, el('time', { text: fmtTime(e.timestamp) })), el('td', { class: 'msg', text: e.message })));
}

function renderEvents(panel, group, stream, go) {
  const streams = el('select', { id: 'log-stream', 'aria-label': 'Log stream' }, el('option', { value: '', text: 'All streams (filter)' }));
  const pattern = el('input', { type: 'search', id: 'filter-pattern', placeholder: 'Filter pattern, e.g. ERROR or { $.level = "error" }', 'aria-label': 'Filter pattern' });
  const filterBtn = el('button', { type: 'submit', text: 'Filter' });
  const tail = el('button', { type: 'button', id: 'live-tail', 'aria-pressed': 'false', text: 'Live tail' });
  const out = el('tbody', { id: 'log-events' });
  const msg = el('div', { id: 'log-status' });
  const form = el('form', { class: 'controls' }, streams, pattern, filterBtn, tail);
  panel.append(form, msg, el('div', { class: 'table-wrap' }, el('table', { class: 'events' }, el('thead', {}, el('tr', {}, el('th', { text: 'Time' }), el('th', { text: 'Message' }))), out)));

  let timer = null;
  let forward = null;
  let lastTs = 0;
  const seen = new Set();

  (async () => {
    try {
      const r = await logs('DescribeLogStreams', { logGroupName: group, orderBy: 'LastEventTime', descending: true, limit: 50 });
      for (const s of r.logStreams || []) streams.append(el('option', { value: s.logStreamName, text: s.logStreamName, selected: s.logStreamName === stream }));
      if (!stream && (r.logStreams || []).length) streams.value = r.logStreams[0].logStreamName;
      load();
    } catch (e) { msg.append(errorBox(e)); }
  })();
  streams.onchange = () => { stopTail(); load(); };
  form.onsubmit = (ev) => { ev.preventDefault(); stopTail(); load(); };

  async function load() {
    clear(msg);
    clear(out);
    seen.clear();
    try {
      if (pattern.value.trim() || !streams.value) {
        const body = { logGroupName: group, limit: 200, startTime: Date.now() - 86400e3 };
        if (streams.value) body.logStreamNames = [streams.value];
        if (pattern.value.trim()) body.filterPattern = pattern.value.trim();
        const r = await logs('FilterLogEvents', body);
        append(r.events || []);
      } else {
        const r = await logs('GetLogEvents', { logGroupName: group, logStreamName: streams.value, startFromHead: false, limit: 200 });
        forward = r.nextForwardToken;
        append(r.events || []);
      }
      if (!out.children.length) msg.append(el('p', { class: 'empty', text: 'No events.' }));
    } catch (e) { msg.append(errorBox(e)); }
  }

  function append(events) {
    const fresh = events.filter((e) => { const k = e.eventId || `${e.logStreamName}/${e.timestamp}/${e.message}`; if (seen.has(k)) return false; seen.add(k); return true; });
    for (const e of fresh) lastTs = Math.max(lastTs, e.timestamp);
    out.append(...eventRows(fresh));
    while (out.children.length > 2000) out.firstChild.remove();
    if (fresh.length && timer) out.lastChild.scrollIntoView({ block: 'nearest' });
  }

  // Live tail: every second, the stream's next page (GetLogEvents with the forward token), or
  // FilterLogEvents from the newest event seen when a pattern or no stream is chosen.
  async function poll() {
    try {
      if (pattern.value.trim() || !streams.value) {
        const body = { logGroupName: group, startTime: lastTs || Date.now() - 60e3, limit: 500 };
        if (streams.value) body.logStreamNames = [streams.value];
        if (pattern.value.trim()) body.filterPattern = pattern.value.trim();
        append((await logs('FilterLogEvents', body)).events || []);
      } else {
        const r = await logs('GetLogEvents', { logGroupName: group, logStreamName: streams.value, startFromHead: true, ...(forward ? { nextToken: forward } : {}) });
        forward = r.nextForwardToken || forward;
        append(r.events || []);
      }
    } catch (e) { stopTail(); clear(msg).append(errorBox(e)); }
  }
  function stopTail() { clearInterval(timer); timer = null; tail.setAttribute('aria-pressed', 'false'); }
  tail.onclick = () => {
    if (timer) { stopTail(); return; }
    tail.setAttribute('aria-pressed', 'true');
    timer = setInterval(poll, 1000);
  };
  return stopTail;
}

function renderInsights(panel, group) {
  const q = el('textarea', { id: 'insights-query', rows: 4, 'aria-label': 'Logs Insights query', spellcheck: 'false' });
  q.value = 'fields @timestamp, @message\n| sort @timestamp desc\n| limit 50';
  const range = el('select', { id: 'insights-range', 'aria-label': 'Time range' }, ['1h', '3h', '12h', '1d', '1w'].map((r) => el('option', { value: r, text: r, selected: r === '1h' })));
  const run = el('button', { type: 'submit', id: 'run-query', text: 'Run query' });
  const status = el('div', { id: 'insights-status', role: 'status' });
  const bars = el('div', { id: 'insights-chart', class: 'chart-box' });
  const table = el('div', { id: 'insights-results', class: 'table-wrap' });
  const form = el('form', { class: 'insights' }, q, el('div', { class: 'controls' }, range, run));
  panel.append(form, status, bars, table);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clear(status); clear(bars); clear(table);
    const [start, end] = rangeBounds(range.value);
    try {
      run.disabled = true;
      status.textContent = 'Running…';
      const { queryId } = await logs('StartQuery', { logGroupNames: [group], startTime: Math.floor(start / 1000), endTime: Math.ceil(end / 1000), queryString: q.value });
      let r;
      for (let i = 0; i < 600; i++) {
        r = await logs('GetQueryResults', { queryId });
        if (!['Scheduled', 'Running'].includes(r.status)) break;
        await new Promise((ok) => setTimeout(ok, 500));
      }
      status.textContent = `${r.status}: ${(r.results || []).length} rows` + (r.statistics ? `, ${r.statistics.recordsMatched ?? 0} records matched of ${r.statistics.recordsScanned ?? 0} scanned` : '');
      showResults(r.results || [], q.value, bars, table);
    } catch (e) { clear(status).append(errorBox(e)); }
    finally { run.disabled = false; }
  };
}

function showResults(rows, query, bars, table) {
  const fields = [];
  for (const row of rows) for (const f of row) if (f.field !== '@ptr' && !fields.includes(f.field)) fields.push(f.field);
  const body = rows.map((row) => {
    const m = new Map(row.map((f) => [f.field, f.value]));
    return el('tr', {}, fields.map((f) => el('td', { text: m.get(f) ?? '' })));
  });
  table.append(el('table', {}, el('thead', {}, el('tr', {}, fields.map((f) => el('th', { text: f })))), el('tbody', {}, body)));
  const data = binBars(rows, query);
  if (data) drawBars(bars, data);
}

// For `stats ... by bin(...)`: one bar per bin (sorted by time) with the first numeric
// statistic; null for any other query.
export function binBars(rows, query) {
  if (!/\bby\s+bin\s*\(/i.test(query)) return null;
  const fields = [];
  for (const row of rows) for (const f of row) if (f.field !== '@ptr' && !fields.includes(f.field)) fields.push(f.field);
  const bin = fields.find((f) => /^bin\s*\(/i.test(f)) || fields[0];
  const val = fields.find((f) => f !== bin && rows.some((r) => r.some((x) => x.field === f && x.value !== '' && !Number.isNaN(Number(x.value)))));
  if (!bin || !val) return null;
  return rows.map((r) => ({ label: (r.find((x) => x.field === bin) || {}).value || '', value: Number((r.find((x) => x.field === val) || {}).value) || 0 }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

// Alarms: every alarm with its state in colour (DescribeAlarms); one alarm's state timeline
// (DescribeAlarmHistory) and its metric with the threshold drawn (GetMetricData).

import { cw, all } from './api.js';
import { el, svg, clear, errorBox, setRoute, stateBadge, fmtTime, rangeBounds } from './util.js';
import { drawChart, legend } from './chart.js';
import { fetchSeries } from './metrics.js';

export function render(view, params) {
  const name = params.get('name');
  if (name) return renderOne(view, name, params.get('range') || '1d');
  const filter = params.get('state') || '';
  const seg = el('div', { class: 'seg', role: 'group', 'aria-label': 'State filter' });
  for (const [v, l] of [['', 'All'], ['ALARM', 'In alarm'], ['INSUFFICIENT_DATA', 'Insufficient data'], ['OK', 'OK']]) {
    seg.append(el('button', { type: 'button', 'aria-pressed': String(v === filter), text: l, onclick: () => { setRoute('alarms', new URLSearchParams(v ? { state: v } : {}), false); } }));
  }
  const body = el('div', { id: 'alarm-list' }, el('p', { class: 'status', text: 'Loading…' }));
  view.append(el('div', { class: 'row' }, el('h1', { text: 'Alarms' }), seg), body);
  (async () => {
    try {
      const req = filter ? { StateValue: filter } : {};
      const pages = [];
      let token;
      do {
        const r = await cw('DescribeAlarms', { ...req, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], ...(token ? { NextToken: token } : {}) });
        pages.push(...(r.MetricAlarms || []).map((a) => ({ ...a, kind: 'metric' })), ...(r.CompositeAlarms || []).map((a) => ({ ...a, kind: 'composite' })));
        token = r.NextToken;
      } while (token);
      clear(body);
      if (!pages.length) { body.append(el('p', { class: 'empty', text: 'No alarms.' })); return; }
      const order = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };
      pages.sort((a, b) => (order[a.StateValue] - order[b.StateValue]) || a.AlarmName.localeCompare(b.AlarmName));
      const rows = pages.map((a) => el('tr', {},
        el('td', {}, el('a', { href: '#/alarms?' + new URLSearchParams({ name: a.AlarmName }), text: a.AlarmName, 'data-alarm': a.AlarmName })),
        el('td', {}, stateBadge(a.StateValue)),
        el('td', { text: a.kind === 'composite' ? 'composite' : (a.MetricName ? `${a.Namespace} ${a.MetricName}` : 'metric math') }),
        el('td', { text: a.kind === 'composite' ? '' : `${a.ComparisonOperator} ${a.Threshold ?? a.ThresholdMetricId ?? ''}` }),
        el('td', { text: a.StateUpdatedTimestamp ? fmtTime(toMs(a.StateUpdatedTimestamp)) : '' })));
      body.append(el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ['Name', 'State', 'Metric', 'Condition', 'Since'].map((h) => el('th', { text: h })))), el('tbody', {}, rows))));
    } catch (e) { clear(body).append(errorBox(e)); }
  })();
  return null;
}

const toMs = (t) => (typeof t === 'number' ? t * 1000 : Date.parse(t));

function renderOne(view, name, range) {
  const head = el('div', { class: 'row' }, el('a', { href: '#/alarms', text: '← Alarms' }), el('h1', { text: name }));
  const info = el('div', { id: 'alarm-detail' }, el('p', { class: 'status', text: 'Loading…' }));
  const timeline = el('div', { class: 'timeline', id: 'alarm-timeline' });
  const chartBox = el('div', { class: 'chart-box', id: 'alarm-chart' });
  const seg = el('div', { class: 'seg', role: 'group', 'aria-label': 'Time range' });
  for (const r of ['1h', '3h', '12h', '1d', '1w']) {
    seg.append(el('button', { type: 'button', 'aria-pressed': String(r === range), text: r, onclick: () => setRoute('alarms', new URLSearchParams({ name, range: r }), false) }));
  }
  view.append(head, info, el('div', { class: 'row' }, el('h2', { text: 'State and metric' }), seg), timeline, chartBox);
  (async () => {
    try {
      const r = await cw('DescribeAlarms', { AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
      const a = (r.MetricAlarms || [])[0] || (r.CompositeAlarms || [])[0];
      clear(info);
      if (!a) { info.append(el('p', { class: 'error', text: `No alarm named ${name}.` })); return; }
      info.append(el('p', {}, stateBadge(a.StateValue), ' ', a.StateReason || ''),
        el('dl', { class: 'facts' },
          a.AlarmDescription ? [el('dt', { text: 'Description' }), el('dd', { text: a.AlarmDescription })] : null,
          a.MetricName ? [el('dt', { text: 'Metric' }), el('dd', { text: `${a.Namespace} ${a.MetricName} ${(a.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(' ')}` })] : null,
          a.ComparisonOperator ? [el('dt', { text: 'Condition' }), el('dd', { text: `${a.ExtendedStatistic || a.Statistic || ''} ${a.ComparisonOperator} ${a.Threshold ?? ''} for ${a.DatapointsToAlarm || a.EvaluationPeriods} of ${a.EvaluationPeriods} × ${a.Period || ''} s` })] : null,
          a.AlarmRule ? [el('dt', { text: 'Rule' }), el('dd', { text: a.AlarmRule })] : null));
      const [start, end] = rangeBounds(range);
      const hist = await all(cw, 'DescribeAlarmHistory', { AlarmName: name, HistoryItemType: 'StateUpdate', StartDate: Math.floor(start / 1000) - 14 * 86400, EndDate: Math.ceil(end / 1000), MaxRecords: 100 }, 'AlarmHistoryItems');
      drawTimeline(timeline, hist, a, start, end);
      if (a.MetricName) {
        const d = {};
        for (const x of a.Dimensions || []) d[x.Name] = x.Value;
        const series = await fetchSeries([{ ns: a.Namespace, m: a.MetricName, d }], start, end, a.Period || 60, a.ExtendedStatistic || a.Statistic || 'Average');
        drawChart(chartBox, series, { start, end, thresholds: a.Threshold !== undefined ? [{ value: a.Threshold, label: `threshold ${a.Threshold}` }] : [], title: 'Alarm metric' });
        chartBox.append(legend(series));
      } else if (a.Metrics) {
        const res = await cw('GetMetricData', { MetricDataQueries: a.Metrics, StartTime: Math.floor(start / 1000), EndTime: Math.ceil(end / 1000), ScanBy: 'TimestampAscending' });
        const series = (res.MetricDataResults || []).map((x) => ({ label: x.Label || x.Id, ts: (x.Timestamps || []).map(toMs), vals: x.Values || [] }));
        drawChart(chartBox, series, { start, end, thresholds: a.Threshold !== undefined ? [{ value: a.Threshold }] : [], title: 'Alarm metric' });
        chartBox.append(legend(series));
      }
    } catch (e) { clear(info).append(errorBox(e)); }
  })();
  return null;
}

// A horizontal band coloured by state over [start, end], from the StateUpdate history items.
function drawTimeline(box, items, alarm, start, end) {
  clear(box);
  const changes = items.map((h) => {
    let data = {};
    try { data = JSON.parse(h.HistoryData || '{}'); } catch { data = {}; }
    return { t: toMs(h.Timestamp), from: data.oldState && data.oldState.stateValue, to: data.newState && data.newState.stateValue, summary: h.HistorySummary };
  }).filter((c) => c.to).sort((a, b) => a.t - b.t);
  const W = 800, H = 34;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'timeline-svg', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'state timeline' });
  const x = (t) => Math.max(0, Math.min(W, ((t - start) / (end - start)) * W));
  let state = changes.length ? (changes.find((c) => c.t >= start) || {}).from || changes[changes.length - 1].to : alarm.StateValue;
  for (const c of changes) if (c.t < start) state = c.to;
  let t0 = start;
  const seg = (a, b, s) => {
    if (b <= a || !s) return;
    const r = svg('rect', { x: x(a), width: Math.max(x(b) - x(a), 0.5), y: 4, height: H - 8, class: 'st-' + s.toLowerCase(), 'data-state': s });
    r.append(svg('title', {}, `${s} from ${fmtTime(a)}`));
    root.append(r);
  };
  for (const c of changes) {
    if (c.t < start) continue;
    seg(t0, c.t, state);
    t0 = c.t; state = c.to;
  }
  seg(t0, end, state);
  box.append(root);
  const list = el('ol', { class: 'history' });
  for (const c of changes.slice(-10).reverse()) list.append(el('li', {}, el('time', { text: fmtTime(c.t) }), ' ', stateBadge(c.to), ' ', c.summary || ''));
  box.append(list);
}

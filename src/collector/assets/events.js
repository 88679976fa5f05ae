// Events: buses (ListEventBuses), their rules (ListRules), a rule's targets
// (ListTargetsByRule), the rule's invocations in the last hour from the AWS/Events metrics the
// collector publishes (GetMetricData: Invocations, FailedInvocations, DeadLetterInvocations),
// and, for log-group targets, the recent deliveries: the events the rule delivered into the
// stream named after it (GetLogEvents).

import { cw, events, logs, all } from './api.js';
import { el, clear, errorBox, setRoute, fmtTime } from './util.js';

export function render(view, params) {
  const bus = params.get('bus') || 'default';
  const rule = params.get('rule') || '';
  const buses = el('ul', { class: 'pick-list', id: 'event-buses', 'aria-label': 'Event buses' });
  const panel = el('section', { class: 'panel' }, el('h1', { text: `Rules on ${bus}` }));
  view.append(el('div', { class: 'explorer' }, el('aside', { class: 'browser' }, el('h2', { text: 'Event buses' }), buses), panel));
  (async () => {
    try {
      const list = await all(events, 'ListEventBuses', {}, 'EventBuses');
      for (const b of list) buses.append(el('li', {}, el('button', { type: 'button', 'aria-pressed': String(b.Name === bus), text: b.Name, onclick: () => setRoute('events', new URLSearchParams({ bus: b.Name }), false) })));
    } catch (e) { buses.append(errorBox(e)); }
    try {
      const rules = await all(events, 'ListRules', { EventBusName: bus }, 'Rules');
      if (!rules.length) { panel.append(el('p', { class: 'empty', text: 'No rules on this bus.' })); return; }
      const rows = rules.map((r) => el('tr', {},
        el('td', {}, el('a', { href: '#/events?' + new URLSearchParams({ bus, rule: r.Name }), text: r.Name })),
        el('td', { text: r.State }),
        el('td', { class: 'msg', text: r.ScheduleExpression || r.EventPattern || '' })));
      panel.append(el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ['Rule', 'State', 'Pattern or schedule'].map((h) => el('th', { text: h })))), el('tbody', {}, rows))));
      if (rule) {
        const box = el('section', { class: 'card', id: 'rule-targets' }, el('h2', { text: `Targets of ${rule}` }));
        panel.append(box);
        const targets = await all(events, 'ListTargetsByRule', { Rule: rule, EventBusName: bus }, 'Targets');
        if (!targets.length) box.append(el('p', { class: 'empty', text: 'No targets.' }));
        box.append(await invocations(bus, rule));
        for (const t of targets) {
          box.append(el('p', {}, el('strong', { text: t.Id + ': ' }), t.Arn));
          const group = /^arn:aws:logs:[^:]*:[^:]*:log-group:([^:]+)(:\*)?$/.exec(t.Arn);
          if (group) box.append(await deliveries(group[1], rule));
        }
      }
    } catch (e) { clear(panel).append(errorBox(e)); }
  })();
  return null;
}

// The rule's AWS/Events metrics summed over the last hour.
async function invocations(bus, rule) {
  const box = el('p', { id: 'rule-invocations' });
  const dims = [{ Name: 'RuleName', Value: rule }];
  if (bus !== 'default') dims.push({ Name: 'EventBusName', Value: bus });
  const names = ['Invocations', 'FailedInvocations', 'DeadLetterInvocations'];
  const end = Date.now();
  try {
    const r = await cw('GetMetricData', {
      MetricDataQueries: names.map((n, i) => ({ Id: 'm' + i, MetricStat: { Metric: { Namespace: 'AWS/Events', MetricName: n, Dimensions: dims }, Period: 60, Stat: 'Sum' } })),
      StartTime: Math.floor((end - 3600e3) / 1000), EndTime: Math.ceil(end / 1000),
    });
    const sum = (id) => ((r.MetricDataResults || []).find((x) => x.Id === id)?.Values || []).reduce((a, b) => a + b, 0);
    box.textContent = `Invocations in the last hour: ${sum('m0')} (failed: ${sum('m1')}, sent to the dead-letter destination: ${sum('m2')})`;
  } catch (e) {
    box.append(errorBox(e));
  }
  return box;
}

async function deliveries(group, rule) {
  const box = el('div', { class: 'deliveries' }, el('h3', { text: `Recent deliveries to ${group}` }));
  try {
    const r = await logs('GetLogEvents', { logGroupName: group, logStreamName: rule, startFromHead: false, limit: 20 });
    const rows = (r.events || []).reverse().map((e) => el('tr', {}, el('td', {}, el('time', { text: fmtTime(e.timestamp) })), el('td', { class: 'msg', text: e.message })));
    if (!rows.length) box.append(el('p', { class: 'empty', text: 'No deliveries yet.' }));
    else box.append(el('div', { class: 'table-wrap' }, el('table', { class: 'events', id: 'rule-deliveries' }, el('tbody', {}, rows))));
  } catch (e) {
    if (e.code === 'ResourceNotFoundException') box.append(el('p', { class: 'empty', text: 'No deliveries yet.' }));
    else box.append(errorBox(e));
  }
  return box;
}

// Events: buses (ListEventBuses), their rules (ListRules) and a rule's targets
// (ListTargetsByRule).

import { events, all } from './api.js';
import { el, clear, errorBox, setRoute } from './util.js';

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
        for (const t of targets) box.append(el('p', {}, el('strong', { text: t.Id + ': ' }), t.Arn));
      }
    } catch (e) { clear(panel).append(errorBox(e)); }
  })();
  return null;
}

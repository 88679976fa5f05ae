// Unit tests of the dashboard page's pure functions (no browser needed): dashboard-body metric
// rows to GetMetricData queries, relative start times, CSV export, statistics labels.
// Run with `node --test tests/browser/units.test.mjs` (tests/e2e/dashboard.rs does).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { widgetQueries, relativeStart } from '../../src/collector/assets/dashboards.js';
import { toCsv, seriesLabel, specOf } from '../../src/collector/assets/metrics.js';
import { unionTimestamps } from '../../src/collector/assets/chart.js';
import { rangeBounds, fmtNum } from '../../src/collector/assets/util.js';
import { binBars } from '../../src/collector/assets/logs.js';

test('metric rows become queries; "." repeats the previous row', () => {
  const q = widgetQueries({
    stat: 'Average', period: 60,
    metrics: [
      ['CWAgent', 'mem_used_percent', 'host', 'a'],
      ['.', '.', '.', 'b', { stat: 'p99', label: 'B', id: 'mb' }],
      [{ expression: 'ma + mb', label: 'sum', id: 's' }],
      ['AWS/EC2', 'CPUUtilization', { visible: false, period: 300 }],
    ],
  });
  assert.deepEqual(q[0], { Id: 'w0', MetricStat: { Metric: { Namespace: 'CWAgent', MetricName: 'mem_used_percent', Dimensions: [{ Name: 'host', Value: 'a' }] }, Period: 60, Stat: 'Average' }, Label: 'mem_used_percent a', ReturnData: true });
  assert.equal(q[1].Id, 'mb');
  assert.deepEqual(q[1].MetricStat.Metric.Dimensions, [{ Name: 'host', Value: 'b' }]);
  assert.equal(q[1].MetricStat.Stat, 'p99');
  assert.equal(q[1].Label, 'B');
  assert.deepEqual(q[2], { Id: 's', Expression: 'ma + mb', Label: 'sum', ReturnData: true });
  assert.equal(q[3].ReturnData, false);
  assert.equal(q[3].MetricStat.Period, 300);
  assert.deepEqual(q[3].MetricStat.Metric.Dimensions, []);
});

test('relative start times', () => {
  assert.equal(relativeStart('-PT3H'), 3 * 3600e3);
  assert.equal(relativeStart('-PT15M'), 15 * 60e3);
  assert.equal(relativeStart('-P1D'), 86400e3);
  assert.equal(relativeStart('-P1W'), 7 * 86400e3);
  assert.equal(relativeStart('-P1DT12H'), 36 * 3600e3);
  assert.equal(relativeStart('2024-01-01T00:00:00Z'), 3 * 3600e3, 'absolute: the default');
  assert.equal(relativeStart(undefined), 3 * 3600e3);
});

test('CSV: one row per timestamp of any series, empty cells where a series has no point', () => {
  const csv = toCsv([
    { label: 'a', ts: [0, 60000], vals: [1, 2.5] },
    { label: 'b "x", y', ts: [60000, 120000], vals: [3, 4] },
  ]);
  assert.equal(csv, 'Timestamp,a,"b ""x"", y"\n1970-01-01T00:00:00Z,1,\n1970-01-01T00:01:00Z,2.5,3\n1970-01-01T00:02:00Z,,4\n');
});

test('labels and specs', () => {
  const spec = specOf({ Namespace: 'N', MetricName: 'm', Dimensions: [{ Name: 'host', Value: 'h' }] });
  assert.deepEqual(spec, { ns: 'N', m: 'm', d: { host: 'h' } });
  assert.equal(seriesLabel(spec), 'm host=h');
  assert.deepEqual([...unionTimestamps([{ ts: [3, 1] }, { ts: [2, 3] }])], [1, 2, 3]);
});

test('time ranges and numbers', () => {
  const [s, e] = rangeBounds('custom', '2024-01-01T00:00Z', '2024-01-01T01:00Z');
  assert.equal(e - s, 3600e3);
  const [s2, e2] = rangeBounds('custom', '2024-01-01T01:00Z', '2024-01-01T00:00Z');
  assert.equal(e2 - s2, 3 * 3600e3, 'an inverted custom range falls back to 3 h');
  assert.equal(fmtNum(12.5), '12.5');
  assert.equal(fmtNum(14.4), '14.4');
  assert.equal(fmtNum(25000), '25k');
  assert.equal(fmtNum(null), '');
});

test('Insights: bars for stats ... by bin(), sorted by bin', () => {
  const rows = [
    [{ field: 'bin(1m)', value: '2024-01-01 00:01:00.000' }, { field: 'count(*)', value: '3' }],
    [{ field: 'bin(1m)', value: '2024-01-01 00:00:00.000' }, { field: 'count(*)', value: '5' }],
  ];
  assert.deepEqual(binBars(rows, 'stats count(*) by bin(1m)'), [
    { label: '2024-01-01 00:00:00.000', value: 5 },
    { label: '2024-01-01 00:01:00.000', value: 3 },
  ]);
  assert.equal(binBars(rows, 'fields @message'), null);
  assert.equal(binBars([[{ field: 'bin(5m)', value: 'x' }]], 'stats count(*) by bin(5m)'), null, 'no numeric column');
});

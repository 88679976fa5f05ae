// Drives the collector's web dashboard in headless Chromium (Debian's package, never a browser
// downloaded by a tool). Started by tests/e2e/dashboard.rs, which starts the collector and agent,
// prepares data, and checks what this script writes to OUT_DIR.
//
// Input (environment): HOSTWATCH_ENDPOINT, HW_ACCESS_KEY_ID, HW_SECRET_ACCESS_KEY, HW_HOST (the
// agent's host name), HW_ALARM, HW_LOG_GROUP, HW_BENCH_NAMESPACE (1,000 series), OUT_DIR.
// Output: OUT_DIR/metrics.csv (the explorer's download), OUT_DIR/*.png screenshots,
// OUT_DIR/result.json (what the pages showed, timings). Exits non-zero on a failed check.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} is not set`); return v; };
const endpoint = env('HOSTWATCH_ENDPOINT');
const keyId = env('HW_ACCESS_KEY_ID');
const secret = env('HW_SECRET_ACCESS_KEY');
const host = env('HW_HOST');
const alarm = env('HW_ALARM');
const logGroup = env('HW_LOG_GROUP');
const benchNs = env('HW_BENCH_NAMESPACE');
const out = env('OUT_DIR');
const result = { steps: [], timings: {} };
const step = (name) => { result.steps.push(name); console.log(`step: ${name}`); };

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostwatch-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1366, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Every response body the browser receives, to check that none carries the secret.
const bodies = [];
const errors = [];
context.on('response', async (r) => {
  try { bodies.push({ url: r.url(), body: await r.text() }); } catch { /* redirects, aborted */ }
});

async function newPage(viewport) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (e) => errors.push(String(e)));
  // Anything the Content-Security-Policy blocked is a bug in the page.
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(out, name + '.png'), fullPage: false });
}

async function noSecretOnPage(page) {
  const html = await page.content();
  assert.ok(!html.includes(secret), 'the secret key is on the page');
}

try {
  const page = await newPage();
  await page.goto(endpoint + '/');

  step('an API call without a session is refused');
  const refused = await page.evaluate(async () => {
    const r = await fetch('/dashboard/api', { method: 'POST', headers: { 'X-Amz-Target': 'GraniteServiceVersion20100801.ListMetrics', 'Content-Type': 'application/x-amz-json-1.0' }, body: '{}' });
    return { status: r.status, body: await r.text() };
  });
  assert.equal(refused.status, 401, JSON.stringify(refused));

  step('sign in');
  await page.locator('#signin').waitFor({ state: 'visible' });
  await shot(page, 'laptop-signin');
  await page.fill('#access-key-id', keyId);
  await page.fill('#secret-access-key', 'not-the-secret');
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-error').filter({ hasText: /not valid/ }).waitFor();
  await page.fill('#secret-access-key', secret);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#nav').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#who').textContent(), keyId);
  const cookies = await context.cookies(endpoint);
  const sess = cookies.find((c) => c.name === 'hw_session');
  assert.ok(sess && sess.httpOnly && sess.sameSite === 'Strict', JSON.stringify(cookies));
  result.cookie = { httpOnly: sess.httpOnly, sameSite: sess.sameSite, secure: sess.secure };
  const noCsrf = await page.evaluate(async () => (await fetch('/dashboard/api', { method: 'POST', headers: { 'X-Amz-Target': 'GraniteServiceVersion20100801.ListMetrics' }, body: '{}' })).status);
  assert.equal(noCsrf, 403, 'an API call without the CSRF token is refused');

  step('hosts overview draws every chart');
  await page.locator('.card .chart path[data-series]').first().waitFor({ state: 'attached' });
  assert.match(await page.locator('#host-list').textContent(), new RegExp(host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await shot(page, 'laptop-hosts');

  step('pick a metric the agent shipped');
  await page.goto(endpoint + '/#/metrics?ns=CWAgent');
  await page.locator('#namespaces button[data-namespace="CWAgent"]').waitFor();
  await page.fill('#metric-search', 'mem_used_percent');
  const metricBtn = page.locator('#metric-list button[data-metric="mem_used_percent"]');
  await metricBtn.first().waitFor();
  await metricBtn.first().click();
  await page.locator('#chart svg path[data-series]').first().waitFor({ state: 'attached' });
  assert.match(await page.locator('#chart svg path[data-series]').first().getAttribute('data-series'), /^mem_used_percent host=/);
  await shot(page, 'laptop-metrics-3h');

  step('change the time range and the period');
  await page.click('button[data-range="1h"]');
  await page.waitForFunction(() => location.hash.includes('range=1h'));
  await page.selectOption('#period', '1');
  await page.locator('#chart-status').filter({ hasText: /per 1 s/ }).waitFor();
  const path0 = page.locator('#chart svg path[data-series]');
  await path0.first().waitFor();
  const d = await path0.first().getAttribute('d');
  const points = (d.match(/[ML]/g) || []).length;
  assert.ok(points >= 3, `the series path has ${points} points: ${d}`);
  result.firstPathPoints = points;
  await shot(page, 'laptop-metrics');

  step('values on hover');
  const box = await page.locator('#chart svg').boundingBox();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
  await page.locator('#chart .tip').filter({ hasText: /mem_used_percent/ }).waitFor();
  const shared = page.url();
  result.sharedUrl = shared;

  step('custom time range');
  await page.click('button[data-range="custom"]');
  await page.locator('#range-from').waitFor();
  await page.waitForFunction(() => location.hash.includes('range=custom') && location.hash.includes('from='));
  await page.click('button[data-range="1h"]');
  await page.waitForFunction(() => location.hash.includes('range=1h'));
  await page.locator('#chart-status').filter({ hasText: /per 1 s/ }).waitFor();

  step('download the chart data as CSV');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  await download.saveAs(path.join(out, 'metrics.csv'));

  step('add the chart to a saved dashboard');
  page.once('dialog', (d) => d.accept('from-explorer'));
  await page.click('#add-to-dashboard');
  await page.locator('#chart-status a', { hasText: 'from-explorer' }).waitFor();

  step('the URL holds the chart');
  const page2 = await newPage();
  await page2.goto(shared);
  await page2.locator('#chart svg path[data-series]').first().waitFor();
  assert.equal(await page2.locator('#period').inputValue(), '1');
  assert.equal(await page2.locator('button[data-range="1h"]').getAttribute('aria-pressed'), 'true');
  await page2.close();

  step('stacked area and pie');
  await page.fill('#metric-search', 'cpu_usage_user');
  await page.locator('#metric-list button[data-metric="cpu_usage_user"]').first().click();
  await page.selectOption('#chart-type', 'stacked');
  await page.waitForFunction(() => document.querySelectorAll('#chart svg path[fill-opacity]').length >= 2);
  await shot(page, 'laptop-stacked');
  await page.selectOption('#chart-type', 'pie');
  await page.locator('#chart svg.pie path').first().waitFor();
  await shot(page, 'laptop-pie');

  step('a thousand series');
  const t0 = Date.now();
  await page.goto(endpoint + `/#/metrics?ns=${encodeURIComponent(benchNs)}&period=60&range=1h`);
  await page.locator(`#namespaces button[data-namespace="${benchNs}"]`).waitFor();
  const specs = [];
  for (let i = 0; i < 1000; i++) specs.push({ ns: benchNs, m: 'load', d: { series: String(i).padStart(4, '0') } });
  await page.evaluate((q) => { location.hash = '#/metrics?' + new URLSearchParams({ q: JSON.stringify(q), ns: q[0].ns, range: '1h', period: '60', stat: 'Average' }); }, specs);
  await page.waitForFunction(() => document.querySelectorAll('#chart svg path[data-series]').length === 1000, null, { timeout: 60000 });
  result.timings.thousandSeriesLoadMs = Date.now() - t0;
  result.timings.thousandSeriesFetchMs = Number(await page.locator('#chart-status').getAttribute('data-fetch-ms'));
  result.timings.thousandSeriesDrawMs = Number(await page.locator('#chart-status').getAttribute('data-draw-ms'));
  const b2 = await page.locator('#chart svg').boundingBox();
  const h0 = Date.now();
  for (let i = 0; i < 20; i++) {
    await page.mouse.move(b2.x + b2.width * (0.1 + i * 0.04), b2.y + b2.height / 2);
    await page.locator('#chart .tip').waitFor();
  }
  result.timings.thousandSeriesHover20Ms = Date.now() - h0;
  const s0 = Date.now();
  await page.fill('#metric-search', 'series=0999');
  await page.waitForFunction(() => document.querySelectorAll('#metric-list button').length === 1);
  result.timings.thousandSeriesSearchMs = Date.now() - s0;
  await shot(page, 'laptop-thousand');

  step('open an alarm and see its state');
  await page.goto(endpoint + '/#/alarms');
  const row = page.locator(`#alarm-list a[data-alarm="${alarm}"]`);
  await row.waitFor();
  result.alarmListState = (await page.locator('#alarm-list tr').filter({ has: page.locator(`a[data-alarm="${alarm}"]`) }).locator('.badge').textContent()).trim();
  await shot(page, 'laptop-alarms');
  await row.click();
  await page.locator('#alarm-detail .badge').waitFor();
  result.alarmState = (await page.locator('#alarm-detail .badge').first().textContent()).trim();
  await page.locator('#alarm-timeline rect[data-state]').first().waitFor();
  result.timelineStates = await page.locator('#alarm-timeline rect[data-state]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-state')));
  await page.locator('#alarm-chart svg path[data-series]').first().waitFor({ state: 'attached' });
  await page.locator('#alarm-chart svg line.threshold').waitFor({ state: 'attached' });
  await shot(page, 'laptop-alarm');

  step('log events, filter pattern');
  await page.goto(endpoint + '/#/logs?' + new URLSearchParams({ group: logGroup }));
  await page.locator('#log-events tr').first().waitFor();
  result.logRows = await page.locator('#log-events tr').count();
  await page.fill('#filter-pattern', 'ERROR');
  await page.press('#filter-pattern', 'Enter');
  await page.waitForFunction(() => document.querySelector('#log-status .error') || (document.querySelector('#log-events tr') && !document.querySelector('#log-status .empty')));
  const filterError = await page.locator('#log-status .error').count() ? await page.locator('#log-status .error').textContent() : null;
  result.filter = filterError ? { error: filterError } : { rows: await page.locator('#log-events tr').count() };
  await shot(page, 'laptop-logs');

  step('live tail shows a new event within seconds');
  await page.goto(endpoint + '/#/logs?' + new URLSearchParams({ group: logGroup, stream: 'web-1' }));
  await page.locator('#log-events tr').first().waitFor();
  await page.click('#live-tail');
  const put = await page.evaluate(async (group) => {
    const s = await (await fetch('/dashboard/session')).json();
    const r = await fetch('/dashboard/api', {
      method: 'POST',
      headers: { 'X-Amz-Target': 'Logs_20140328.PutLogEvents', 'Content-Type': 'application/x-amz-json-1.1', 'X-Hostwatch-Csrf': s.csrfToken },
      body: JSON.stringify({ logGroupName: group, logStreamName: 'web-1', logEvents: [{ timestamp: Date.now(), message: 'live tail line' }] }),
    });
    return r.status;
  }, logGroup);
  assert.equal(put, 200);
  await page.locator('#log-events tr', { hasText: 'live tail line' }).waitFor({ timeout: 10000 });
  await page.click('#live-tail');

  step('run an Insights query');
  await page.goto(endpoint + '/#/logs?' + new URLSearchParams({ group: logGroup, tab: 'insights' }));
  await page.fill('#insights-query', 'stats count(*) by bin(1m)');
  await page.click('#run-query');
  await page.waitForFunction(() => document.querySelector('#insights-status .error') || document.querySelector('#insights-results table'));
  const insightsError = await page.locator('#insights-status .error').count() ? await page.locator('#insights-status .error').textContent() : null;
  result.insights = insightsError ? { error: insightsError } : { rows: await page.locator('#insights-results tbody tr').count(), bars: await page.locator('#insights-chart rect').count() };
  await shot(page, 'laptop-insights');

  step('events: buses, rules, targets and recent deliveries');
  await page.goto(endpoint + '/#/events');
  await page.locator('#event-buses button').first().waitFor();
  await page.click('a:text("alarms-to-log")');
  await page.locator('#rule-targets').waitFor();
  await page.locator('#rule-deliveries tr', { hasText: 'CloudWatch Alarm State Change' }).first().waitFor();
  result.deliveries = await page.locator('#rule-deliveries tr').count();
  result.ruleInvocations = (await page.locator('#rule-invocations').textContent()).trim();
  await shot(page, 'laptop-events');

  step('saved dashboards: the hosts dashboard, a dashboard put by the CLI, validation errors');
  await page.goto(endpoint + '/#/dashboards');
  await page.locator('a[data-dashboard="ops"]').waitFor();
  await page.click('#save-hosts');
  await page.waitForFunction(() => location.hash.includes('name=hosts'));
  await page.locator('#dashboard-grid .widget[data-type="metric"] svg path[data-series]').first().waitFor({ state: 'attached' });
  result.hostsWidgets = await page.locator('#dashboard-grid .widget').count();
  await shot(page, 'laptop-dashboard-hosts');
  await page.goto(endpoint + '/#/dashboards?name=ops');
  await page.locator('#dashboard-grid .widget[data-type="metric"] svg path[data-series]').first().waitFor({ state: 'attached' });
  await page.locator('#dashboard-grid .widget[data-type="alarm"] .badge').waitFor();
  result.dashboardAlarmState = (await page.locator('#dashboard-grid .widget[data-type="alarm"] .badge').textContent()).trim();
  result.dashboardText = (await page.locator('#dashboard-grid .widget[data-type="text"] h2').first().textContent()).trim();
  await page.locator('#dashboard-grid .widget[data-type="log"] .error, #dashboard-grid .widget[data-type="log"] table').first().waitFor();
  result.dashboardLog = (await page.locator('#dashboard-grid .widget[data-type="log"]').innerText()).trim();
  await shot(page, 'laptop-dashboard-ops');
  await page.click('#edit-dashboard');
  await page.fill('#dashboard-json', '{"widgets": [{"type": "text", "width": 30, "properties": {"markdown": "x"}}]}');
  await page.click('#save-dashboard');
  await page.locator('#dashboard-status .error').waitFor();
  result.dashboardSaveError = await page.locator('#dashboard-status .error').textContent();

  step('phone width');
  const phone = await newPage({ width: 390, height: 844 });
  await phone.goto(endpoint + '/#/hosts');
  await phone.locator('.card .chart path[data-series]').first().waitFor({ state: 'attached' });
  await shot(phone, 'phone-hosts');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the phone page scrolls sideways by ${overflow}px`);
  await phone.goto(shared);
  await phone.locator('#chart svg path[data-series]').first().waitFor();
  await shot(phone, 'phone-metrics');
  await phone.goto(endpoint + '/#/dashboards?name=ops');
  await phone.locator('#dashboard-grid .widget[data-type="metric"] svg path[data-series]').first().waitFor({ state: 'attached' });
  await shot(phone, 'phone-dashboard');
  await noSecretOnPage(phone);

  step('keyboard: the nav and the metric list are reachable with Tab');
  await page.goto(endpoint + '/#/metrics');
  await page.locator('#metric-list button').first().waitFor();
  await page.focus('.brand');
  const focusable = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    focusable.push(await page.evaluate(() => document.activeElement && (document.activeElement.tagName + (document.activeElement.dataset.namespace ? ':ns' : ''))));
  }
  assert.ok(focusable.includes('A') && focusable.includes('BUTTON:ns'), focusable.join(','));

  step('sign out');
  await noSecretOnPage(page);
  await page.click('#signout');
  await page.locator('#signin').waitFor({ state: 'visible' });
  const after = await page.evaluate(async () => (await fetch('/dashboard/session')).status);
  assert.equal(after, 401);

  step('no page or response carried the secret');
  for (const b of bodies) assert.ok(!b.body.includes(secret), `${b.url} returned the secret`);
  result.responsesChecked = bodies.length;
  assert.deepEqual(errors, [], 'page errors');
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = String(e && e.stack || e);
  console.error(e);
  result.failurePages = [];
  for (const [i, p] of context.pages().entries()) {
    await shot(p, `failure-${i}`).catch(() => {});
    result.failurePages.push(await p.locator('body').innerText().catch(() => ''));
  }
  process.exitCode = 1;
} finally {
  fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify(result, null, 2));
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

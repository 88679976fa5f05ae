// The dashboard shell: sign-in, navigation between views (the URL hash names the view and its
// state), sign-out.

import { session, signIn, signOut } from './api.js';
import { clear, currentRoute, errorBox } from './util.js';
import * as hosts from './hosts.js';
import * as metrics from './metrics.js';
import * as alarms from './alarms.js';
import * as logs from './logs.js';
import * as events from './events.js';
import * as dashboards from './dashboards.js';

const VIEWS = { hosts, dashboards, metrics, alarms, logs, events };
const $ = (id) => document.getElementById(id);
let teardown = null;

function showSignIn() {
  if (teardown) { teardown(); teardown = null; }
  clear($('view'));
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  $('signin').hidden = false;
  $('access-key-id').focus();
}

function showApp(s) {
  $('signin').hidden = true;
  $('nav').hidden = false;
  $('signout').hidden = false;
  $('who').textContent = s.accessKeyId;
  route();
}

function route() {
  if ($('nav').hidden) return;
  if (teardown) { teardown(); teardown = null; }
  const { view, params } = currentRoute();
  const mod = VIEWS[view] || hosts;
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const container = clear($('view'));
  document.title = `hostwatch: ${view}`;
  try { teardown = mod.render(container, params) || null; } catch (e) { container.append(errorBox(e)); }
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  $('signin-error').textContent = '';
  try {
    const s = await signIn(form.accessKeyId.value.trim(), form.secretAccessKey.value);
    form.reset();
    showApp(s);
  } catch (e) {
    form.secretAccessKey.value = '';
    $('signin-error').textContent = e.message;
  }
});

$('signout').addEventListener('click', async () => {
  await signOut();
  showSignIn();
});

window.addEventListener('hashchange', route);
// Charts are drawn at their container's width: draw the view again when the width changes.
let lastWidth = window.innerWidth, resizeTimer;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { if (window.innerWidth !== lastWidth) { lastWidth = window.innerWidth; route(); } }, 300);
});
window.addEventListener('hostwatch:signedout', showSignIn);

session().then((s) => (s ? showApp(s) : showSignIn()), showSignIn);

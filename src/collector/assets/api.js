// The page's only way to the collector's data: the same JSON APIs the AWS CLI uses, posted to
// /dashboard/api with the session cookie and the session's CSRF token.

let csrf = null;

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

export function setCsrf(token) { csrf = token; }

const TARGETS = {
  cw: ['GraniteServiceVersion20100801', 'application/x-amz-json-1.0'],
  logs: ['Logs_20140328', 'application/x-amz-json-1.1'],
  events: ['AWSEvents', 'application/x-amz-json-1.1'],
};

export async function call(service, op, body = {}) {
  const [prefix, type] = TARGETS[service];
  const resp = await fetch('/dashboard/api', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-Amz-Target': prefix + '.' + op, 'Content-Type': type, 'X-Hostwatch-Csrf': csrf || '' },
    body: JSON.stringify(body),
  });
  const text = await resp.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { message: text }; }
  if (!resp.ok) {
    if (resp.status === 401) window.dispatchEvent(new Event('hostwatch:signedout'));
    const type = String(data.__type || data.code || 'Error');
    throw new ApiError(type.slice(type.lastIndexOf('#') + 1), data.message || data.Message || '', resp.status);
  }
  return data;
}

export const cw = (op, body) => call('cw', op, body);
export const logs = (op, body) => call('logs', op, body);
export const events = (op, body) => call('events', op, body);

// Every page of a paginated list: `key` names the array, `token` the pagination member.
export async function all(fn, op, body, key, token = 'NextToken', max = 100) {
  const out = [];
  let next;
  for (let i = 0; i < max; i++) {
    const page = await fn(op, next ? { ...body, [token]: next } : body);
    out.push(...(page[key] || []));
    next = page[token];
    if (!next) break;
  }
  return out;
}

export async function session() {
  const r = await fetch('/dashboard/session', { credentials: 'same-origin' });
  if (!r.ok) return null;
  const s = await r.json();
  setCsrf(s.csrfToken);
  return s;
}

export async function signIn(accessKeyId, secretAccessKey) {
  const r = await fetch('/dashboard/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ accessKeyId, secretAccessKey }),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(data.__type || 'Error', data.message || 'Sign-in failed', r.status);
  setCsrf(data.csrfToken);
  return data;
}

export async function signOut() {
  await fetch('/dashboard/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-Hostwatch-Csrf': csrf || '' } });
  setCsrf(null);
}

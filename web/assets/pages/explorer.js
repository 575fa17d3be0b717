// What each mode really holds, side by side, for the current sign-in; the token's life and refresh
// as it happens; and a revoke that shows both credentials failing at once.
import { auth, endLocal, logHistory, onLog, request } from '../api.js';
import { formatTime, lang, t } from '../i18n.js';

export const template = 'page-explorer';
export const title = 'explorer.heading';

// The attributes Gatehouse sets (src/http/cookies.ts); the values are HttpOnly, so no script can read them.
const SESSION_COOKIE = { name: '__Host-gatehouse', path: '/', sameSite: 'Lax' };
const REFRESH_COOKIE = { name: '__Secure-gatehouse-refresh', path: '/auth/refresh', sameSite: 'Strict' };

function kv(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

function cookieRows(c, expiresAt) {
  return [
    [t('cookie.name'), c.name],
    [t('cookie.value'), t('cookie.redacted')],
    ['Path', c.path],
    ['HttpOnly', t('cookie.yes')],
    ['Secure', t('cookie.yes')],
    ['SameSite', c.sameSite],
    [t('cookie.expires'), expiresAt ? formatTime(expiresAt) : '—'],
  ];
}

function withTimes(claims) {
  const out = { ...claims };
  for (const k of ['iat', 'exp', 'nbf']) {
    if (typeof claims[k] === 'number') out[k] = `${claims[k]} (${new Date(claims[k] * 1000).toISOString()})`;
  }
  return out;
}

export async function render(main, { announce, updateChrome }) {
  const logEl = main.querySelector('#explorer-log');
  const addLog = (entry) => {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = new Date(entry.at).toISOString();
    time.textContent = new Date(entry.at).toLocaleTimeString(lang() === 'ko' ? 'ko-KR' : 'en-GB');
    li.dataset.key = entry.key;
    li.append(time, ' ', t(entry.key, entry.vars));
    logEl.prepend(li);
    main.querySelector('#explorer-log-empty').hidden = true;
    while (logEl.children.length > 30) logEl.lastElementChild.remove();
  };
  for (const e of logHistory()) addLog(e);
  const empty = main.querySelector('#explorer-log-empty');
  empty.hidden = logEl.children.length > 0;

  const modeEl = main.querySelector('#explorer-mode');
  const colSession = main.querySelector('#col-session');
  const colToken = main.querySelector('#col-token');
  const countdown = main.querySelector('#countdown');
  const revokeBtn = main.querySelector('#revoke');
  const results = main.querySelector('#revoke-results');

  function setActive(col, on) {
    col.classList.toggle('inactive', !on);
    col.querySelector('.inactive-note').hidden = on;
  }

  async function showSession() {
    const [me, list] = await Promise.all([request('GET', '/auth/me'), request('GET', '/auth/sessions')]);
    if (!me.ok || !auth.mode) return;
    const current = list.ok ? list.body.sessions.find((s) => s.current) : null;
    // GET /auth/sessions describes the session itself; /auth/me's expiry is the access token's in token mode.
    const record = current ? { ...current } : { ...me.body.session };
    delete record.current;
    main.querySelector('#session-record').textContent = JSON.stringify(record, null, 2);
    if (auth.mode === 'session') kv(main.querySelector('#cookie-attrs'), cookieRows(SESSION_COOKIE, me.body.session.expires_at));
  }

  function showToken() {
    const jwt = auth.jwt;
    main.querySelector('#jwt-header').textContent = jwt ? JSON.stringify(jwt.header, null, 2) : '—';
    main.querySelector('#jwt-claims').textContent = jwt ? JSON.stringify(withTimes(jwt.claims), null, 2) : '—';
    const sessionExp = auth.session?.expires_at;
    kv(main.querySelector('#refresh-cookie-attrs'), cookieRows(REFRESH_COOKIE, auth.mode === 'token' ? sessionExp : null));
    tick();
  }

  function tick() {
    const exp = auth.jwt?.claims?.exp;
    if (typeof exp !== 'number') {
      countdown.textContent = '—';
      return;
    }
    const left = exp * 1000 - Date.now();
    countdown.textContent = left > 0 ? t('explorer.token.seconds', { seconds: (left / 1000).toFixed(1) }) : t('explorer.token.expired');
    countdown.dataset.expired = left > 0 ? 'false' : 'true';
  }

  if (!auth.mode) {
    modeEl.textContent = t('explorer.mode.none');
    setActive(colSession, false);
    setActive(colToken, false);
    kv(main.querySelector('#cookie-attrs'), cookieRows(SESSION_COOKIE, null));
    kv(main.querySelector('#refresh-cookie-attrs'), cookieRows(REFRESH_COOKIE, null));
    main.querySelector('#session-record').textContent = '—';
    showToken();
    revokeBtn.disabled = true;
  } else {
    modeEl.textContent = t(auth.mode === 'token' ? 'explorer.mode.token' : 'explorer.mode.session', { email: auth.user?.email ?? '' });
    setActive(colSession, auth.mode === 'session');
    setActive(colToken, auth.mode === 'token');
    if (auth.mode === 'token') kv(main.querySelector('#cookie-attrs'), cookieRows(SESSION_COOKIE, null));
    showToken();
    await showSession();
  }

  const result = (key, vars) => {
    const li = document.createElement('li');
    li.dataset.key = key;
    li.textContent = t(key, vars);
    results.append(li);
  };

  revokeBtn.addEventListener('click', async () => {
    if (!auth.mode || !auth.session?.id) return;
    results.replaceChildren();
    revokeBtn.disabled = true;
    const mode = auth.mode;
    const token = auth.accessToken;
    const del = await request('DELETE', `/auth/sessions/${encodeURIComponent(auth.session.id)}`);
    result('explorer.revoke.deleted', { status: del.status });
    // Replays the credentials this page held a moment ago, without letting the client refresh them.
    if (mode === 'session') {
      const cookieTry = await request('GET', '/auth/me', { noAuth: true });
      result('explorer.revoke.cookie', { status: cookieTry.status, code: cookieTry.code ?? '' });
    }
    if (token) {
      const tokenTry = await request('GET', '/auth/me', { bearer: token });
      result('explorer.revoke.token', { status: tokenTry.status, code: tokenTry.code ?? '' });
      const r = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
      const body = await r.json().catch(() => null);
      result('explorer.revoke.refresh', { status: r.status, code: body?.error ?? body?.code ?? '' });
    }
    endLocal(null);
    updateChrome();
    modeEl.textContent = t('explorer.mode.revoked');
    announce('status.revoked', {}, 'success');
  });

  const off = onLog((entry) => {
    addLog(entry);
    if (entry.key === 'log.refreshed') showToken();
  });
  const timer = setInterval(tick, 200);
  return () => {
    off();
    clearInterval(timer);
  };
}

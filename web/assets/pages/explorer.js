// The explorer: the article's comparison of server-side sessions and JWTs, row by row, each row shown
// live from this server for the way this browser signed in, and as a worked example for the other.
import { auth, logHistory, onChange, onLog, refreshLead, request, WATCH_MS } from '../api.js';
import { busy } from '../forms.js';
import { formatClock, formatLeft, formatTime, lang, t } from '../i18n.js';
import { el, kv, mono } from '../explorer/dom.js';
import { exampleToken, renderJwt } from '../explorer/jwt-view.js';
import { otherOrigin, runLab } from '../explorer/lab.js';
import { afterEnded, revokeHere, showReplay } from '../explorer/revoke.js';
import { runXss } from '../explorer/xss.js';

export const template = 'page-explorer';
export const title = 'explorer.heading';

// The attributes Gatehouse sets (src/http/cookies.ts); the values are HttpOnly, so no script can read them.
const SESSION_COOKIE = { name: '__Host-gatehouse', path: '/', sameSite: 'Lax' };
const REFRESH_COOKIE = { name: '__Secure-gatehouse-refresh', path: '/auth/refresh', sameSite: 'Strict' };

/** What the last revocation showed, kept across a re-render (a language switch). */
let outcome = null;

/** The explorer shows a sign-in ended elsewhere itself, instead of leaving for the sign-in page. */
export function keepsEnd() {
  return true;
}

const shortId = (id) => (typeof id === 'string' && id.length > 12 ? `${id.slice(0, 10)}…` : (id ?? '—'));
const at = (iso) => (iso ? Date.parse(iso) : NaN);

export async function render(main, { updateChrome }) {
  const cols = (name) => main.querySelectorAll(`.x-col[data-col="${name}"]`);
  const slot = (mode, name) => main.querySelector(`.x-col[data-col="${mode}"] [data-slot="${name}"]`);
  const slotsIn = (row, mode, name) => main.querySelector(`#${row} .x-col[data-col="${mode}"] [data-slot="${name}"]`);
  const modeLine = main.querySelector('#x-mode');
  const timersEl = main.querySelector('#x-timers');
  let record = null;
  let counters = null;
  let revoked = null; // 'here' | 'elsewhere' once this page's session ended while shown

  // ------------------------------------------------------------- columns: live or worked example
  function setColumns() {
    for (const mode of ['session', 'token']) {
      const live = auth.mode === mode || revoked?.mode === mode;
      for (const col of cols(mode)) {
        col.dataset.state = live ? 'live' : 'example';
        col.querySelector('.x-tag').textContent = t(live ? 'explorer.tag.live' : 'explorer.tag.example');
      }
    }
    main.querySelector('#x-signin').hidden = Boolean(auth.mode) || Boolean(revoked);
    if (revoked) modeLine.textContent = t(revoked.where === 'here' ? 'explorer.mode.revoked' : 'explorer.mode.ended');
    else if (!auth.mode) modeLine.textContent = t('explorer.mode.none');
    else modeLine.textContent = t(auth.mode === 'token' ? 'explorer.mode.token' : 'explorer.mode.session', { email: auth.user?.email ?? '' });
    main.querySelector('#revoke').disabled = !auth.mode;
  }

  // ------------------------------------------------------------- where the state lives
  const cookieRows = (c, live, expires, expiresNote) => [
    [t('cookie.name'), mono(c.name)],
    [t('cookie.value'), t('cookie.hidden')],
    ['Path', mono(c.path)],
    ['HttpOnly', t('cookie.yes')],
    ['Secure', t('cookie.yes')],
    ['SameSite', mono(c.sameSite)],
    [t('cookie.expires'), live ? formatTime(expires) : t(expiresNote), live ? t(expiresNote) : null],
  ];

  function showState() {
    const s = auth.session;
    const live = (mode) => auth.mode === mode;
    kv(slot('session', 'cookie'), cookieRows(SESSION_COOKIE, live('session'), s?.expires_at, live('session') ? 'cookie.expiresAbsolute' : 'cookie.expiresExampleSession'));
    kv(slot('token', 'refresh-cookie'), cookieRows(REFRESH_COOKIE, live('token'), s?.expires_at, live('token') ? 'cookie.expiresSession' : 'cookie.expiresExampleToken'));
    for (const mode of ['session', 'token']) {
      const dl = slot(mode, 'record');
      if (revoked?.mode === mode) kv(dl, [[t('record.state'), t('record.deleted')]]);
      else if (live(mode) && s) {
        kv(dl, [
          [t('record.id'), mono(shortId(s.id))],
          [t('record.mode'), mono(mode)],
          [t('record.created'), formatTime(s.created_at ?? record?.created_at)],
          [t('record.lastSeen'), formatTime(record?.last_seen_at)],
          [t('record.idle'), formatTime(s.idle_expires_at), t(mode === 'token' ? 'record.idleNoteToken' : 'record.idleNote')],
          [t('record.absolute'), formatTime(s.expires_at), t('record.absoluteNote')],
          [t('record.device'), record ? `${record.device?.browser ?? '—'} · ${record.device?.os ?? '—'} · ${record.ip ?? '—'}` : '—'],
        ]);
      } else kv(dl, [[t('record.example'), t('record.exampleText')]]);
      const cdl = slot(mode, 'counters');
      if (live(mode) && counters) {
        const per = counters.requests > 0 ? (counters.store_reads / counters.requests).toFixed(2) : '—';
        kv(cdl, [
          [t('counters.requests'), mono(String(counters.requests))],
          [t('counters.reads'), mono(String(counters.store_reads)), t(mode === 'token' ? 'counters.readsNoteToken' : 'counters.readsNoteSession')],
          [t('counters.writes'), mono(String(counters.store_writes))],
          [t('counters.perRequest'), mono(per), t('counters.since', { time: formatTime(counters.since) })],
        ]);
        cdl.dataset.reads = String(counters.store_reads);
        cdl.dataset.requests = String(counters.requests);
      } else kv(cdl, [[t('counters.example'), t(mode === 'token' ? 'counters.exampleToken' : 'counters.exampleSession')]]);
    }
    const jwtSlot = slot('token', 'jwt');
    if (auth.mode === 'token') renderJwt(jwtSlot, auth.accessToken);
    else if (revoked?.mode === 'token' && revoked.token) renderJwt(jwtSlot, revoked.token, { revoked: true });
    else renderJwt(jwtSlot, exampleToken(), { example: true });
    main.querySelector('#x-document-cookie').textContent = document.cookie || t('xss.emptyCookie');
  }

  async function loadRecord() {
    if (!auth.mode) return;
    const res = await request('GET', '/auth/sessions');
    if (res.ok && auth.mode) record = res.body.sessions.find((x) => x.current) ?? null;
  }
  async function loadCounters() {
    if (!auth.mode) return null;
    const res = await request('GET', '/auth/session/counters');
    if (res.ok && auth.mode) counters = res.body;
    return res.ok ? res.body : null;
  }

  // ------------------------------------------------------------- expiry, pinned at the top
  function timerRows() {
    const s = auth.session;
    const now = Date.now();
    if (auth.mode === 'session' && s) {
      return [
        ['timer.idle', at(s.idle_expires_at)],
        ['timer.absolute', at(s.expires_at)],
      ];
    }
    if (auth.mode === 'token') {
      const exp = (auth.jwt?.claims?.exp ?? 0) * 1000;
      return [
        ['timer.access', exp],
        ['timer.refreshAt', exp - refreshLead()],
        ['timer.refreshIdle', at(s?.idle_expires_at)],
        ['timer.sessionEnd', at(s?.expires_at)],
      ].filter(([, v]) => Number.isFinite(v) && (v > now || v === exp));
    }
    return [];
  }
  function tick() {
    const rows = timerRows();
    const clockOf = (when) => (when - Date.now() > 86_400_000 ? formatTime(when) : formatClock(when));
    timersEl.replaceChildren(...rows.map(([key, when]) => el('div', { className: 'timer', 'data-timer': key }, el('dt', {}, t(key)), el('dd', {}, el('strong', {}, formatLeft(when - Date.now())), ' ', el('span', { className: 'kv-note' }, clockOf(when))))));
    timersEl.hidden = rows.length === 0;
    for (const mode of ['session', 'token']) {
      const dl = slotsIn('x-expiry', mode, 'expiry');
      if (auth.mode === mode) kv(dl, rows.map(([key, when]) => [t(key), formatLeft(when - Date.now()), formatTime(when)]));
      else kv(dl, mode === 'session' ? [[t('timer.idle'), t('expiry.exampleIdle')], [t('timer.absolute'), t('expiry.exampleAbsolute')]] : [[t('timer.access'), t('expiry.exampleAccess')], [t('timer.refreshIdle'), t('expiry.exampleRefresh')], [t('timer.sessionEnd'), t('expiry.exampleSession')]]);
    }
  }

  // ------------------------------------------------------------- sending: call the API with this credential
  const callBtn = main.querySelector('#x-call');
  const callOut = main.querySelector('#x-call-result');
  callBtn.addEventListener('click', async () => {
    busy(callBtn, true);
    try {
      const mode = auth.mode;
      const token = auth.accessToken;
      const before = mode ? await loadCounters() : null;
      const r = await request('GET', '/auth/me', mode ? {} : { noAuth: true });
      const after = mode && auth.mode ? await loadCounters() : null;
      const sent =
        mode === 'session' ? el('code', {}, `Cookie: ${SESSION_COOKIE.name}=••••••`) : mode === 'token' ? el('code', {}, `Authorization: Bearer ${token.slice(0, 24)}…`) : el('code', {}, t('call.nothing'));
      const reads = before && after ? String(after.store_reads - before.store_reads) : '—';
      callOut.replaceChildren(
        el('p', { className: 'exchange-line' }, el('span', { className: 'arrow', 'aria-hidden': 'true' }, '→ '), el('code', {}, 'GET /auth/me')),
        el('p', { className: 'exchange-line indent' }, sent, ' ', el('span', { className: 'hint' }, t(mode === 'session' ? 'call.byBrowser' : mode === 'token' ? 'call.byScript' : 'call.none'))),
        el('p', { className: 'exchange-line' }, el('span', { className: 'arrow', 'aria-hidden': 'true' }, '← '), el('code', { 'data-status': String(r.status) }, `${r.status} ${r.code ?? ''}`.trim()), ' ', el('span', { className: 'hint' }, t('call.timing', { ms: Math.round(r.ms ?? 0), reads }))),
        r.ok ? el('p', { className: 'exchange-line indent' }, el('code', {}, t('call.user', { email: r.body?.user?.email ?? '' }))) : '',
      );
      if (auth.mode) showState();
      callOut.scrollIntoView({ block: 'nearest' });
    } finally {
      busy(callBtn, false);
    }
  });

  // ------------------------------------------------------------- sending and cross-domain: the lab
  const labBtn = main.querySelector('#x-lab-run');
  const labOut = main.querySelector('#x-lab-result');
  const crossOut = main.querySelector('#x-cross-result');
  crossOut.textContent = t('lab.cors.notRun');
  if (!otherOrigin()) {
    labBtn.hidden = true;
    main.querySelector('#x-lab-unavailable').hidden = false;
  }
  labBtn.addEventListener('click', () => void runLab({ button: labBtn, result: labOut, cross: crossOut, mode: auth.mode }));

  // ------------------------------------------------------------- revocation
  const revokeBtn = main.querySelector('#revoke');
  const revokeOut = main.querySelector('#revoke-results');
  function showOutcome() {
    if (!outcome) return;
    showReplay(revokeOut, { heading: t(outcome.heading, outcome.vars), rows: outcome.rows, note: t(outcome.note, outcome.vars) });
  }
  revokeBtn.addEventListener('click', async () => {
    if (!auth.mode) return;
    const credentials = { mode: auth.mode, accessToken: auth.accessToken, sessionId: auth.session?.id ?? auth.jwt?.claims?.sid };
    busy(revokeBtn, true);
    const { del, rows } = await revokeHere(credentials);
    busy(revokeBtn, false);
    if (!del.ok) {
      revokeOut.replaceChildren(el('p', { className: 'form-error' }, `${del.status} ${del.code ?? ''}`));
      return;
    }
    revoked = { where: 'here', mode: credentials.mode, token: credentials.accessToken };
    outcome = { heading: 'revoke.hereHeading', vars: { status: del.status }, rows, note: credentials.mode === 'session' ? 'revoke.hereNoteSession' : 'revoke.hereNoteToken' };
    updateChrome();
    setColumns();
    showState();
    tick();
    showOutcome();
    revokeOut.scrollIntoView({ block: 'nearest' });
  });

  // ------------------------------------------------------------- XSS
  const xssBtn = main.querySelector('#x-xss-run');
  const xssOut = main.querySelector('#x-xss-result');
  xssBtn.addEventListener('click', async () => {
    busy(xssBtn, true);
    try {
      await runXss(xssOut);
      xssOut.scrollIntoView({ block: 'nearest' });
      showState();
    } finally {
      busy(xssBtn, false);
    }
  });

  // ------------------------------------------------------------- the token log
  const logEl = main.querySelector('#explorer-log');
  const addLog = (entry) => {
    const li = el('li', { 'data-key': entry.key }, el('time', { dateTime: new Date(entry.at).toISOString() }, new Date(entry.at).toLocaleTimeString(lang() === 'ko' ? 'ko-KR' : 'en-GB')), ' ', t(entry.key, entry.vars));
    logEl.prepend(li);
    main.querySelector('#explorer-log-empty').hidden = true;
    while (logEl.children.length > 30) logEl.lastElementChild.remove();
  };
  for (const e of logHistory()) addLog(e);
  main.querySelector('#explorer-log-empty').hidden = logEl.children.length > 0;

  // ------------------------------------------------------------- live updates
  let checks = 0;
  const offChange = onChange(async (e) => {
    if (!main.isConnected) return;
    if (e.type === 'checked') {
      await loadCounters();
      if (++checks % 3 === 0) await loadRecord();
      showState();
    } else if (e.type === 'token') {
      showState();
    } else if (e.type === 'ended' && e.reason) {
      // Ended elsewhere (another device, a password change, an administrator) or expired.
      revoked = { where: 'elsewhere', mode: e.credentials.mode, token: e.credentials.accessToken };
      setColumns();
      showState();
      tick();
      const rows = await afterEnded(e.credentials, e.noticedAfter);
      const seconds = (e.noticedAfter / 1000).toFixed(1);
      outcome = { heading: e.reason === 'expired' ? 'revoke.expiredHeading' : 'revoke.elsewhereHeading', vars: { seconds, bound: WATCH_MS / 1000 }, rows, note: 'revoke.elsewhereNote' };
      showOutcome();
    }
  });
  const offLog = onLog((entry) => addLog(entry));
  const timer = setInterval(tick, 250);

  setColumns();
  if (auth.mode) await Promise.all([loadRecord(), loadCounters()]);
  setColumns();
  showState();
  tick();
  if (!auth.mode) showOutcome();
  else outcome = null;
  return () => {
    offChange();
    offLog();
    clearInterval(timer);
  };
}

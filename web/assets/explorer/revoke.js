// "Revocation": end the session (here, or from another device) and try the credentials this page
// held, timing how long after the revocation each one was refused.
import { endLocal, lastRefreshFailure, request } from '../api.js';
import { t } from '../i18n.js';
import { el, verdict } from './dom.js';

const since = (t0) => Math.max(0, Math.round(performance.now() - t0));

/** The revoked access token, sent again as it was. */
async function tokenRow(accessToken, t0) {
  const r = await request('GET', '/auth/me', { bearer: accessToken });
  return { label: 'explorer.revoke.token', status: r.status, code: r.code ?? '', refused: r.status === 401, ms: since(t0) };
}

/** The refresh cookie, sent again by the browser (it is HttpOnly: the page cannot see or copy it). */
async function refreshRow(t0) {
  const res = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
  const body = await res.json().catch(() => null);
  return { label: 'explorer.revoke.refresh', status: res.status, code: body?.error ?? body?.code ?? '', refused: !res.ok, ms: since(t0) };
}

/** The session check with whatever session cookie the browser still holds. */
async function cookieRow(label, t0) {
  const res = await fetch('/auth/session', { credentials: 'same-origin', cache: 'no-store' });
  const body = await res.json().catch(() => null);
  return { label, status: res.status, code: body?.user ? 'user: …' : 'user: null', refused: !body?.user, ms: since(t0) };
}

export function showReplay(container, { heading, rows, note }) {
  const list = el(
    'ul',
    { className: 'replay' },
    rows.map((r) =>
      el(
        'li',
        { 'data-key': r.label },
        el('strong', {}, t(r.label)),
        ' ',
        el('code', {}, `${r.status} ${r.code}`.trim()),
        ' ',
        verdict(t(r.refused ? (r.within ? 'revoke.refusedWithin' : 'revoke.refused') : 'revoke.accepted', { ms: r.ms }), r.refused),
      ),
    ),
  );
  container.replaceChildren(el('p', {}, heading), list, note ? el('p', { className: 'hint' }, note) : '');
}

/**
 * Revokes this page's session through the API (DELETE /auth/sessions/{id}) and tries its credentials
 * again. A cookie session's answer also clears the cookie in this browser, so the last row checks
 * what is left; an access token and the refresh cookie are really sent again.
 */
export async function revokeHere(credentials) {
  const del = await request('DELETE', `/auth/sessions/${encodeURIComponent(credentials.sessionId)}`);
  const t0 = performance.now();
  if (!del.ok) return { del, rows: [] };
  // The page forgets its sign-in without leaving: the explorer stays to show what happened.
  endLocal(null);
  const rows = [];
  if (credentials.accessToken) {
    rows.push(await tokenRow(credentials.accessToken, t0));
    rows.push(await refreshRow(t0));
  }
  if (credentials.mode === 'session') rows.push(await cookieRow('explorer.revoke.cookieCleared', t0));
  return { del, rows };
}

/**
 * The sign-in ended elsewhere and this page noticed (`noticedAfter` ms after the last check that found
 * it alive): the check itself was the cookie being refused; a token is sent again now, and the refresh
 * that failed is reported as it was answered.
 */
export async function afterEnded(credentials, noticedAfter) {
  const t0 = performance.now() - noticedAfter;
  const rows = [];
  if (credentials.mode === 'session') rows.push({ label: 'explorer.revoke.cookie', status: 200, code: 'user: null', refused: true, ms: Math.round(noticedAfter) });
  if (credentials.accessToken) {
    rows.push(await tokenRow(credentials.accessToken, t0));
    const f = lastRefreshFailure();
    rows.push({ label: 'explorer.revoke.refresh', status: f?.status ?? 0, code: f?.code ?? '', refused: true, ms: Math.round(noticedAfter) });
  }
  // When the revocation happened is known only to within the checks: these are upper bounds.
  return rows.map((r) => ({ ...r, within: true }));
}

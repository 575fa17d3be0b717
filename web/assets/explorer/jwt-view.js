// The access token as it travels (encoded, in its three parts) beside what it says (decoded), with
// numeric claims shown as the numbers they are and their dates beside them.
import { decodeJwt } from '../jwt.js';
import { formatTime, has, t } from '../i18n.js';
import { el } from './dom.js';

function b64url(obj) {
  let bin = '';
  for (const b of new TextEncoder().encode(JSON.stringify(obj))) bin += String.fromCharCode(b);
  return btoa(bin).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** An illustrative token (not signed, not valid anywhere) with this server's claim layout. */
export function exampleToken() {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'EdDSA', kid: 'example-key-id', typ: 'at+jwt' };
  const claims = { iss: location.origin, aud: 'gatehouse', sub: 'user-id', sid: 'session-id', amr: ['pwd'], iat: now, exp: now + 600, jti: 'token-id' };
  return `${b64url(header)}.${b64url(claims)}.signature-by-the-servers-private-key`;
}

function valueCell(key, v) {
  if (typeof v === 'number' && ['iat', 'exp', 'nbf', 'auth_time'].includes(key)) {
    return el('td', {}, el('code', { className: 'num' }, String(v)), el('span', { className: 'kv-note' }, formatTime(v * 1000)));
  }
  if (typeof v === 'number') return el('td', {}, el('code', { className: 'num' }, String(v)));
  return el('td', {}, el('code', {}, JSON.stringify(v)));
}

function table(caption, obj, prefix) {
  const rows = Object.entries(obj).map(([k, v]) =>
    el('tr', {}, el('th', { scope: 'row' }, el('code', {}, k)), valueCell(k, v), el('td', { className: 'meaning' }, has(`${prefix}.${k}`) ? t(`${prefix}.${k}`) : '')),
  );
  return el(
    'table',
    { className: 'claims' },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('jwt.col.name')), el('th', { scope: 'col' }, t('jwt.col.value')), el('th', { scope: 'col' }, t('jwt.col.meaning')))),
    el('tbody', {}, rows),
  );
}

/** Fills `slot` with the encoded token and its decoded header and claims; `example` marks it as illustrative. */
export function renderJwt(slot, token, { example = false, revoked = false } = {}) {
  slot.replaceChildren();
  const d = token ? decodeJwt(token) : null;
  if (!token || !d) {
    slot.append(el('p', { className: 'hint' }, t('jwt.none')));
    return;
  }
  const [h, p, s] = token.split('.');
  const encoded = el(
    'div',
    { className: 'jwt-encoded' },
    el('p', { className: 'jwt-label' }, t(example ? 'jwt.encodedExample' : 'jwt.encoded')),
    el('code', { className: 'jwt-parts', tabIndex: 0, 'aria-label': t('jwt.encodedLabel') }, el('span', { className: 'jwt-h' }, h), '.', el('span', { className: 'jwt-p' }, p), '.', el('span', { className: 'jwt-s' }, s)),
    el('p', { className: 'hint' }, t('jwt.partsNote')),
  );
  const decoded = el('div', { className: 'jwt-decoded' }, table(t('jwt.header'), d.header, 'jwt.header'), table(t('jwt.claims'), d.claims, 'claim'));
  if (revoked) slot.append(el('p', { className: 'revoked-note', role: 'note' }, t('jwt.revoked')));
  slot.append(el('div', { className: 'jwt-grid' }, encoded, decoded));
}

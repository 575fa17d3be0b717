/**
 * The OpenAPI 3.1 description of Gatehouse's HTTP API, built from TypeScript so that the problem
 * codes and their statuses come from the one registry (src/errors.ts, src/http/problem.ts) and cannot
 * drift. `openapi/generate.ts` writes it to openapi/openapi.json; a test checks the file is fresh,
 * that every registered route is described (and nothing else), and validates real responses.
 */
import { ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { PROBLEMS, PROBLEM_TYPE_BASE } from '../src/http/problem.js';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dateTime = { type: 'string', format: 'date-time' };
const nullable = (type: string) => ({ type: [type, 'null'] });
const obj = (properties: Json, required: string[] = Object.keys(properties), extra: Json = {}): Json => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
const json = (schema: Json, description: string) => ({ description, content: { 'application/json': { schema } } });

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } } };
const WWW_AUTHENTICATE = {
  'WWW-Authenticate': {
    description: '`Bearer error="invalid_token"` (RFC 6750) for a bearer token; `DPoP error="…", algs="ES256 EdDSA"` (RFC 9449) for a DPoP-bound one and for proof errors.',
    schema: { type: 'string' },
  },
};
const DPOP_NONCE = { 'DPoP-Nonce': { required: false, description: 'The server nonce to put in the next DPoP proof (when nonces are on, `GATEHOUSE_DPOP_NONCE`).', schema: { type: 'string' } } };
/** Proof-of-possession problems a token request (login, refresh) answers with 400 and an OAuth `error` (RFC 9449 §5, §8). */
const TOKEN_REQUEST_POP: ErrorCode[] = ['invalid_dpop_proof', 'use_dpop_nonce'];
const ETAG = { description: 'Identifies this version of the list (send it back in `If-None-Match`).', schema: { type: 'string' } };
const SET_COOKIE = (what: string) => ({ 'Set-Cookie': { description: what, schema: { type: 'string' } } });

/**
 * Problem responses for these codes, grouped by status; each narrows `code` to what that status may
 * carry. On a token request the proof-of-possession codes answer 400 (the registry's 401 is where a
 * token is used).
 */
function problems(...codes: ErrorCode[]): Record<string, Json> {
  return problemsOf(codes, false);
}

/** The problems of a token request (login, refresh): DPoP refusals are 400 there. */
function tokenProblems(...codes: ErrorCode[]): Record<string, Json> {
  return problemsOf(codes, true);
}

function problemsOf(codes: ErrorCode[], tokenRequest: boolean): Record<string, Json> {
  const statusOf = (c: ErrorCode) => (tokenRequest && TOKEN_REQUEST_POP.includes(c) ? 400 : PROBLEMS[c].status);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) byStatus.set(statusOf(c), [...(byStatus.get(statusOf(c)) ?? []), c]);
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const headers: Json = {};
    if (list.includes('invalid_token') || (status === 401 && list.includes('invalid_dpop_proof'))) Object.assign(headers, WWW_AUTHENTICATE);
    if (list.includes('use_dpop_nonce')) Object.assign(headers, DPOP_NONCE);
    if (list.includes('rate_limited') || list.includes('store_unavailable') || list.includes('password_hashing_busy')) Object.assign(headers, RETRY_AFTER);
    const narrow: Json = { code: { enum: list } };
    // RFC 6749 §5.2: a refused token request also carries `error` (and `error_description`).
    const oauth = list.filter((c) => c === 'invalid_grant' || (status === 400 && TOKEN_REQUEST_POP.includes(c)));
    if (oauth.length) Object.assign(narrow, { error: { enum: oauth }, error_description: { type: 'string' } });
    // A correct password of a user with a second factor: what finishes the sign-in.
    if (list.includes('mfa_required')) Object.assign(narrow, MFA_REQUIRED);
    if (list.includes('not_ready')) Object.assign(narrow, { checks: ref('ReadinessChecks') });
    if (list.includes('reauth_required')) Object.assign(narrow, { acr: { type: 'string', enum: ['aal1', 'aal2'], description: '`reauth_required`: the assurance level the action needs (`aal2` once the user has a second factor).' } });
    const schema = { allOf: [ref('Problem'), { type: 'object', properties: narrow }] };
    out[String(status)] = {
      description: list.map((c) => `\`${c}\`: ${PROBLEMS[c].title}`).join(' '),
      ...(Object.keys(headers).length ? { headers } : {}),
      content: { 'application/problem+json': { schema } },
    };
  }
  return out;
}

/** Adds headers to one status of a set of problem responses. */
function withHeaders(responses: Record<string, Json>, status: string, headers: Json): Record<string, Json> {
  const r = responses[status]!;
  return { ...responses, [status]: { ...r, headers: { ...((r.headers as Json | undefined) ?? {}), ...headers } } };
}

/** How a session was authenticated: the same three fields on every session shape. */
const BINDING = {
  binding: {
    type: ['string', 'null'],
    enum: ['dpop', 'dbsc', null],
    description: 'The device key the session is bound to: `dpop` (token mode, RFC 9449) or `dbsc` (cookie mode, Device Bound Session Credentials); null when none. The devices page shows it as "bound to this device".',
  },
};

const SESSION_AUTH = {
  amr: { type: 'array', items: { type: 'string' }, description: 'Authentication methods (RFC 8176), e.g. `["pwd"]`, `["pwd","otp","mfa"]`; `["migrated"]` for a session carried over from express-session.' },
  acr: { type: 'string', enum: ['aal1', 'aal2'], description: 'Assurance level: one factor, or two (or a passkey with user verification).' },
  auth_time: { ...dateTime, description: 'When the user last proved who they are in this session (sign-in or re-authentication).' },
};

/** The extension members of a `mfa_required` problem. */
const MFA_REQUIRED = {
  mfa_token: { type: 'string', description: '`mfa_required`: opaque, single use, valid five minutes; send it to `POST /auth/login/mfa` with the second factor.' },
  methods: { type: 'array', items: { type: 'string', enum: ['totp', 'webauthn', 'recovery_code'] }, description: '`mfa_required`: what can finish the sign-in.' },
  expires_in: { type: 'integer', description: '`mfa_required`: seconds the token stays valid.' },
  webauthn: { type: 'object', description: '`mfa_required`, when the user has a passkey: request options (`PublicKeyCredentialRequestOptionsJSON`) for `navigator.credentials.get()`.' },
};

const OUTAGE: ErrorCode[] = ['store_unavailable', 'internal'];
const BODY: ErrorCode[] = ['invalid_json', 'invalid_field', 'invalid_request', 'payload_too_large', 'unsupported_media_type'];
const AUTH: ErrorCode[] = ['unauthenticated', 'invalid_token', 'invalid_dpop_proof', 'use_dpop_nonce'];
const CSRF: ErrorCode[] = ['csrf_rejected'];

const COOKIE_OR_BEARER = [{ cookieAuth: [] }, { bearerAuth: [] }, { dpopAuth: [] }];
const DPOP_PROOF = {
  name: 'DPoP',
  in: 'header',
  required: false,
  description: 'A DPoP proof (RFC 9449) for this request. On a token login it binds the session to its key (`token_type: "DPoP"`); on a refresh of a bound session it is required, signed by that key.',
  schema: { type: 'string' },
};
const PUBLIC: Json[] = [];
const PROVIDER_PARAM = { name: 'provider', in: 'path', required: true, description: 'A configured provider id.', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' } };
const REDIRECT = (to: string, cookies: string) => ({ description: `Found: ${to}`, headers: { Location: { description: to, schema: { type: 'string' } }, ...SET_COOKIE(cookies) } });

/** An RFC 6749-style `error` beside the problem of one code (the exchange's invalid_grant, a logout's invalid_request). */
function withOauthError(responses: Record<string, Json>, code: ErrorCode): Record<string, Json> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const schema = (responses['400'] as any).content['application/problem+json'].schema;
  schema.allOf[1].properties.error = { type: 'string', enum: ['invalid_grant', 'invalid_request'], description: `With \`${code}\`: the OAuth error.` };
  schema.allOf[1].properties.error_description = { type: 'string' };
  return responses;
}

interface Op {
  method: 'get' | 'post' | 'delete' | 'patch';
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  description?: string;
  security?: Json[];
  body?: Json;
  parameters?: Json[];
  responses: Record<string, Json>;
}

const body = (schema: Json) => ({ required: true, content: { 'application/json': { schema } } });
/** Bodies of routes that take none but accept an empty JSON object (so a JSON POST always works). */
const emptyBody = { required: false, content: { 'application/json': { schema: obj({}, []) } } };
const password = { type: 'string', minLength: 1, description: 'At least 8 characters, at most 1024 bytes (UTF-8).' };
const splitToken = { type: 'string', minLength: 1, maxLength: 128, description: 'The token from the link (its fragment).' };


/**
 * The admin API: every operation needs the administrator role and a recent authentication at the
 * highest level the admin has; a request from outside GATEHOUSE_ADMIN_ALLOW_IPS gets `forbidden`.
 */
const ADMIN_GATE: ErrorCode[] = ['admin_required', 'reauth_required', 'forbidden'];
const ADMIN_DESC = ' Requires the administrator role (`gatehouse user grant-admin`) and a recent authentication at the highest level the admin has (`reauth_required` with `acr` otherwise; step up at `POST /auth/reauth`). Every change is recorded in the audit trail with the admin\'s id as `actor`. See docs/admin.md.';
const USER_ID_PARAM = { name: 'id', in: 'path', required: true, description: 'The user id.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const SESSION_ID_PARAM = { name: 'sid', in: 'path', required: true, description: 'The session id (as in the user\'s session list).', schema: { type: 'string' } };
const q = (name: string, description: string, schema: Json = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const LIMIT = (def: number) => q('limit', `Page size, 1 to 100 (default ${def}).`, { type: 'integer', minimum: 1, maximum: 100, default: def });
const adminOp = (o: Omit<Op, 'tag' | 'security'> & { unsafe?: boolean; codes?: ErrorCode[] }): Op => {
  const { unsafe, codes = [], ...rest } = o;
  return {
    ...rest,
    tag: 'admin',
    security: COOKIE_OR_BEARER,
    description: (o.description ?? '') + ADMIN_DESC,
    responses: { ...o.responses, ...problems(...AUTH, ...ADMIN_GATE, ...(unsafe ? CSRF : []), ...codes, ...OUTAGE) },
  };
};

const ADMIN_OPS: Op[] = [
  adminOp({
    method: 'get', path: '/admin/api/users', operationId: 'adminSearchUsers', summary: 'Search users',
    description: 'Users matching every given filter, oldest first, one page at a time: pass `next_cursor` back as `cursor` (opaque) until it is null. Every user is listed exactly once across pages, also while users are added or deleted.',
    parameters: [
      q('email', 'A prefix of the address (matched in its canonical, lower-case form; no wildcards).', { type: 'string', maxLength: 320 }),
      q('status', '`active` (enabled, verified), `unverified` (enabled, address not verified) or `disabled`.', { type: 'string', enum: ['active', 'unverified', 'disabled'] }),
      q('created_from', 'Created at or after (RFC 3339).', { type: 'string', format: 'date-time' }),
      q('created_to', 'Created before (RFC 3339).', { type: 'string', format: 'date-time' }),
      LIMIT(25),
      q('cursor', 'The `next_cursor` of the previous page.'),
    ],
    responses: { '200': json(obj({ users: { type: 'array', items: ref('AdminUser') }, next_cursor: { ...nullable('string'), description: 'Pass as `cursor` for the next page; null on the last.' } }), 'One page of users.') },
    codes: ['invalid_field'],
  }),
  adminOp({
    method: 'get', path: '/admin/api/users/{id}', operationId: 'adminGetUser', summary: 'A user with their sessions, second factors and linked identities',
    description: 'Sessions in both modes with how they were authenticated and the device; second factors and passkeys as metadata only (never a secret, hash or key).',
    parameters: [USER_ID_PARAM],
    responses: { '200': json(ref('AdminUserDetail'), 'The user.') },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'post', path: '/admin/api/users/{id}/disable', operationId: 'adminDisableUser', summary: 'Disable a user',
    description: 'The user can no longer sign in, and every session of theirs in both modes ends on every instance (through the revocation feed). Not for the admin\'s own account (`forbidden`).',
    parameters: [USER_ID_PARAM], body: emptyBody, unsafe: true,
    responses: { '204': { description: 'Disabled.' } },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'post', path: '/admin/api/users/{id}/enable', operationId: 'adminEnableUser', summary: 'Enable a disabled user',
    parameters: [USER_ID_PARAM], body: emptyBody, unsafe: true,
    responses: { '204': { description: 'Enabled.' } },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'delete', path: '/admin/api/users/{id}', operationId: 'adminDeleteUser', summary: 'Delete a user and everything of theirs',
    description: 'As the user\'s own deletion: sessions end everywhere, the trail keeps the events without address or user agent. Not for the admin\'s own account (`forbidden`).',
    parameters: [USER_ID_PARAM], unsafe: true,
    responses: { '204': { description: 'Deleted.' } },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'delete', path: '/admin/api/users/{id}/sessions', operationId: 'adminEndSessions', summary: 'End every session of a user',
    description: 'Both modes: session cookies and token sessions (their refresh tokens, and access tokens within the feed\'s latency) stop working on every instance.',
    parameters: [USER_ID_PARAM], unsafe: true,
    responses: { '200': json(obj({ ended: { type: 'integer', minimum: 0 } }), 'How many sessions ended.') },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'delete', path: '/admin/api/users/{id}/sessions/{sid}', operationId: 'adminEndSession', summary: 'End one session of a user',
    parameters: [USER_ID_PARAM, SESSION_ID_PARAM], unsafe: true,
    responses: { '204': { description: 'Ended.' } },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'post', path: '/admin/api/users/{id}/mfa/reset', operationId: 'adminResetMfa', summary: 'Remove a user\'s second factors and passkeys',
    description: 'For a user who lost them: the authenticator app, recovery codes and passkeys go, every session ends, and the user is told by mail. Not for the admin\'s own account (`forbidden`).',
    parameters: [USER_ID_PARAM], body: emptyBody, unsafe: true,
    responses: { '200': json(obj({ totp: { type: 'boolean' }, recovery_codes: { type: 'integer' }, passkeys: { type: 'integer' } }), 'What was removed.') },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'post', path: '/admin/api/users/{id}/verification', operationId: 'adminResendVerification', summary: 'Send the verification mail again',
    parameters: [USER_ID_PARAM], body: emptyBody, unsafe: true,
    responses: { '200': json(obj({ sent: { type: 'boolean', description: 'false: the address is verified already.' } }), 'Queued (or not needed).') },
    codes: ['not_found'],
  }),
  adminOp({
    method: 'get', path: '/admin/api/audit', operationId: 'adminSearchAudit', summary: 'Search the audit trail across users',
    description: 'Newest first, every given filter applies; pass `next_cursor` back as `cursor` for the next page.',
    parameters: [
      q('user', 'Events about this user id.'),
      q('type', 'One event type, e.g. `login.failed`, `user.disabled`.', { type: 'string', maxLength: 65 }),
      q('ip', 'Events from this client address (exact).', { type: 'string', maxLength: 64 }),
      q('since', 'At or after (RFC 3339).', { type: 'string', format: 'date-time' }),
      q('until', 'Before (RFC 3339).', { type: 'string', format: 'date-time' }),
      LIMIT(50),
      q('cursor', 'The `next_cursor` of the previous page.', { type: 'string', pattern: '^[0-9a-v]{20}$' }),
    ],
    responses: { '200': json(obj({ events: { type: 'array', items: ref('AdminEvent') }, next_cursor: { ...nullable('string'), description: 'Pass as `cursor` for the next page; null on the last.' } }), 'One page of events.') },
    codes: ['invalid_field'],
  }),
  adminOp({
    method: 'get', path: '/admin/api/stats', operationId: 'adminStats', summary: 'Key figures for the console\'s live panel',
    description: 'Sign-ins in the window by result (from the audit trail), live sessions per mode (sampled: a count is reused for 10 s), whether this instance\'s revocation feed is trusted, and one store round-trip now. For Prometheus, see docs/operations.md.',
    parameters: [q('window', 'Minutes, 1 to 60 (default 5).', { type: 'integer', minimum: 1, maximum: 60, default: 5 })],
    responses: {
      '200': json(obj({
        logins: obj({ window_seconds: { type: 'integer' }, succeeded: { type: 'integer' }, failed: { type: 'integer' }, mfa_required: { type: 'integer' } }),
        sessions: obj({ session: { type: 'integer' }, token: { type: 'integer' }, counted_at: dateTime }),
        revocation_feed: obj({ trusted: { type: 'boolean', description: 'false while this instance may have missed a revocation (feed down, replay pending).' } }),
        store: obj({ ping_ms: { type: 'number', description: 'One liveness round-trip to the stores, measured for this answer.' } }),
      }), 'The figures.'),
    },
    codes: ['invalid_field'],
  }),
];

const OPS: Op[] = [
  {
    method: 'post', path: '/auth/register', operationId: 'register', tag: 'auth', summary: 'Create an account',
    description: 'Answers 201 with the public user for any well-formed new or existing address, so the answer tells nobody whether an address has an account.',
    body: body(obj({ email: { type: 'string', maxLength: 1024 }, password }, ['email', 'password'])),
    responses: { '201': json(obj({ user: ref('User') }), 'The account (or an indistinguishable answer for a taken address).'), ...problems(...BODY, 'invalid_email', 'password_too_short', 'password_too_long', 'password_breached', 'email_taken', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/login', operationId: 'login', tag: 'auth', summary: 'Sign in with a session cookie or tokens',
    description:
      '`mode: "session"` (default) sets the `__Host-gatehouse` cookie and, unless `GATEHOUSE_DBSC=off`, offers the browser Device Bound Session Credentials (`Secure-Session-Registration`). ' +
      '`mode: "token"` returns an access token and a refresh token, in the body or (with `refresh_transport: "cookie"`) in an HttpOnly cookie scoped to the refresh path; with a `DPoP` proof both are bound to its key.',
    parameters: [DPOP_PROOF],
    body: body(obj({
      email: { type: 'string', maxLength: 1024 },
      password,
      mode: { type: 'string', enum: ['session', 'token'], default: 'session' },
      refresh_transport: { type: 'string', enum: ['body', 'cookie'], default: 'body' },
    }, ['email', 'password'])),
    responses: {
      '200': {
        description: 'Signed in. Session mode sets the session cookie; token mode returns a grant.',
        headers: {
          ...SET_COOKIE('The session cookie (session mode) or the refresh cookie (token mode, cookie transport).'),
          'Secure-Session-Registration': { required: false, description: 'Session mode: `(ES256);path="/auth/dbsc/register";challenge="…"`, the DBSC registration offer (W3C).', schema: { type: 'string' } },
          ...DPOP_NONCE,
        },
        content: { 'application/json': { schema: { oneOf: [ref('SessionLogin'), ref('TokenGrant')] } } },
      },
      ...tokenProblems(...BODY, 'invalid_credentials', 'mfa_required', ...TOKEN_REQUEST_POP, 'email_unverified', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/login/mfa', operationId: 'loginMfa', tag: 'second factors', summary: 'Finish a password sign-in with the second factor',
    description:
      'After `POST /auth/login` answered 401 `mfa_required`: the `mfa_token` and exactly one of a TOTP code, a recovery code or a passkey assertion (`PublicKeyCredential.toJSON()` of `navigator.credentials.get()` with the options from the 401 or from `POST /auth/login/mfa/options`). ' +
      'Answers exactly like a successful login in the mode the login asked for. A code is accepted once; five wrong answers kill the token (`invalid_mfa_token`); wrong answers also count against the account\'s sign-in limit.',
    body: body(obj({ mfa_token: { type: 'string', maxLength: 512 }, totp: { type: 'string', pattern: '^[0-9 ]{6,8}$' }, recovery_code: { type: 'string', maxLength: 64 }, webauthn: { type: 'object' } }, ['mfa_token'])),
    responses: {
      '200': {
        description: 'Signed in, as by `POST /auth/login`.',
        headers: SET_COOKIE('The session cookie (session mode) or the refresh cookie (token mode, cookie transport).'),
        content: { 'application/json': { schema: { oneOf: [ref('SessionLogin'), ref('TokenGrant')] } } },
      },
      ...tokenProblems(...BODY, 'invalid_mfa_token', 'invalid_otp', 'invalid_webauthn', ...TOKEN_REQUEST_POP, ...CSRF, 'rate_limited', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/login/mfa/options', operationId: 'loginMfaOptions', tag: 'second factors', summary: 'Fresh passkey options for a pending sign-in',
    description: 'Each passkey try spends its challenge; this issues a new one for the same `mfa_token`.',
    body: body(obj({ mfa_token: { type: 'string', maxLength: 512 } })),
    responses: { '200': json(ref('WebAuthnRequestOptions'), 'Request options for `navigator.credentials.get()`.'), ...problems(...BODY, 'invalid_mfa_token', 'no_second_factor', ...CSRF, 'rate_limited', ...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/mfa', operationId: 'mfaStatus', tag: 'second factors', summary: 'Which second factors the user has', security: COOKIE_OR_BEARER,
    responses: { '200': json(obj({ totp: { type: 'boolean' }, recovery_codes_left: { type: 'integer', minimum: 0 }, passkeys: { type: 'integer', minimum: 0 } }), 'The user\'s second factors.'), ...problems(...AUTH, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/mfa/totp', operationId: 'beginTotp', tag: 'second factors', summary: 'Start setting up an authenticator app', security: COOKIE_OR_BEARER, body: emptyBody,
    description: 'Needs a recent authentication. The authenticator stays pending (and protects nothing) until `POST /auth/mfa/totp/confirm` with a first code. RFC 6238: SHA-1, 6 digits, 30 seconds.',
    responses: {
      '200': json(obj({ secret: { type: 'string', description: 'The shared secret, base32 (to type in by hand).' }, uri: { type: 'string', description: 'The `otpauth://totp/…` URI.' }, qr_svg: { type: 'string', description: 'The URI as a QR code: an SVG `data:` URL for an `<img>`.' } }), 'The pending authenticator.'),
      ...problems(...BODY, ...AUTH, 'totp_exists', 'reauth_required', ...CSRF, ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/mfa/totp/confirm', operationId: 'confirmTotp', tag: 'second factors', summary: 'Confirm the authenticator app with a first code', security: COOKIE_OR_BEARER,
    description: 'Turns the second step on and returns ten recovery codes, shown only now. The code also steps this session up to `aal2`.',
    body: body(obj({ code: { type: 'string', maxLength: 64 } })),
    responses: { '200': json(ref('RecoveryCodes'), 'Confirmed.'), ...problems(...BODY, ...AUTH, 'invalid_otp', ...CSRF, 'rate_limited', ...OUTAGE) },
  },
  {
    method: 'delete', path: '/auth/mfa/totp', operationId: 'removeTotp', tag: 'second factors', summary: 'Remove the authenticator app', security: COOKIE_OR_BEARER,
    responses: { '204': { description: 'Removed (with the recovery codes, unless a passkey remains).' }, ...problems(...AUTH, 'not_found', 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/mfa/recovery-codes', operationId: 'regenerateRecoveryCodes', tag: 'second factors', summary: 'Replace the recovery codes', security: COOKIE_OR_BEARER, body: emptyBody,
    responses: { '200': json(ref('RecoveryCodes'), 'Ten new codes; the old ones no longer work.'), ...problems(...BODY, ...AUTH, 'no_second_factor', 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/passkeys/register/options', operationId: 'passkeyRegistrationOptions', tag: 'passkeys', summary: 'Options to create a passkey', security: COOKIE_OR_BEARER, body: emptyBody,
    description: 'Needs a recent authentication. A discoverable credential with user verification; the user\'s passkeys are excluded. Pass to `PublicKeyCredential.parseCreationOptionsFromJSON()`.',
    responses: { '200': json(ref('WebAuthnCreationOptions'), 'Creation options (the challenge is single use, five minutes, bound to this session).'), ...problems(...BODY, ...AUTH, 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/passkeys/register', operationId: 'registerPasskey', tag: 'passkeys', summary: 'Register a passkey', security: COOKIE_OR_BEARER,
    body: body(obj({ response: { type: 'object', description: '`PublicKeyCredential.toJSON()` of `navigator.credentials.create()`.' }, name: { type: 'string', maxLength: 64 } }, ['response'])),
    responses: { '201': json(obj({ passkey: ref('Passkey') }), 'Registered.'), ...problems(...BODY, ...AUTH, 'invalid_webauthn', 'passkey_exists', 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/passkeys', operationId: 'listPasskeys', tag: 'passkeys', summary: 'The user\'s passkeys', security: COOKIE_OR_BEARER,
    responses: { '200': json(obj({ passkeys: { type: 'array', items: ref('Passkey') } }), 'Oldest first.'), ...problems(...AUTH, ...OUTAGE) },
  },
  {
    method: 'patch', path: '/auth/passkeys/{id}', operationId: 'renamePasskey', tag: 'passkeys', summary: 'Rename a passkey', security: COOKIE_OR_BEARER,
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The credential id.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,1366}$' } }],
    body: body(obj({ name: { type: 'string', minLength: 1, maxLength: 64 } })),
    responses: { '204': { description: 'Renamed.' }, ...problems(...BODY, ...AUTH, 'not_found', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'delete', path: '/auth/passkeys/{id}', operationId: 'removePasskey', tag: 'passkeys', summary: 'Remove a passkey', security: COOKIE_OR_BEARER,
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The credential id.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,1366}$' } }],
    responses: { '204': { description: 'Removed.' }, ...problems(...AUTH, 'not_found', 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/passkeys/login/options', operationId: 'passkeyLoginOptions', tag: 'passkeys', summary: 'Options for a passwordless sign-in', body: emptyBody,
    description: 'No email needed: any discoverable credential of this site may answer, with user verification.',
    responses: { '200': json(ref('WebAuthnRequestOptions'), 'Request options (single-use challenge, five minutes).'), ...problems(...BODY, ...CSRF, 'rate_limited', ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/passkeys/login', operationId: 'passkeyLogin', tag: 'passkeys', summary: 'Sign in with a passkey',
    description: 'Answers like `POST /auth/login` in the mode asked for; the session is `aal2` with `amr` `["hwk","user"]` (or `swk` for a synced passkey).',
    body: body(obj({
      response: { type: 'object', description: '`PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.' },
      mode: { type: 'string', enum: ['session', 'token'], default: 'session' },
      refresh_transport: { type: 'string', enum: ['body', 'cookie'], default: 'body' },
    }, ['response'])),
    responses: {
      '200': {
        description: 'Signed in.',
        headers: SET_COOKIE('The session cookie (session mode) or the refresh cookie (token mode, cookie transport).'),
        content: { 'application/json': { schema: { oneOf: [ref('SessionLogin'), ref('TokenGrant')] } } },
      },
      ...tokenProblems(...BODY, 'invalid_webauthn', ...TOKEN_REQUEST_POP, 'email_unverified', ...CSRF, 'rate_limited', ...OUTAGE),
    },
  },
  {
    method: 'get', path: '/auth/oidc/providers', operationId: 'listIdentityProviders', tag: 'identity providers', summary: 'The identity providers users may sign in with',
    responses: { '200': json(obj({ providers: { type: 'array', items: ref('IdentityProvider') } }), 'The configured providers (for "Continue with …" buttons).'), ...problems(...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/oidc/{provider}/start', operationId: 'startProviderSignIn', tag: 'identity providers', summary: 'Start signing in at an identity provider (a browser navigation)',
    description:
      'Redirects to the provider with `state`, `nonce` and PKCE (S256), all derived from a secret in the `__Host-gatehouse-oidc` cookie set here (HttpOnly, SameSite=Lax, 10 minutes): the callback is accepted only in this browser. ' +
      '`return_to` must be a path on this site. In token mode, `dpop_jkt` (RFC 9449 §10) binds the later exchange to that key.',
    parameters: [
      PROVIDER_PARAM,
      { name: 'mode', in: 'query', required: false, schema: { type: 'string', enum: ['session', 'token'], default: 'session' } },
      { name: 'return_to', in: 'query', required: false, description: 'Where to land afterwards: a same-origin path such as `/account` (never another origin or `//host`).', schema: { type: 'string', maxLength: 1024, default: '/' } },
      { name: 'dpop_jkt', in: 'query', required: false, description: 'Token mode: the JWK SHA-256 thumbprint of the DPoP key the exchange must be proven with.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } },
    ],
    responses: { '302': REDIRECT('To the provider’s authorization endpoint.', 'The flow cookie.'), ...problems('invalid_field', 'not_found', 'rate_limited', 'oidc_provider_unavailable', ...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/oidc/{provider}/callback', operationId: 'providerCallback', tag: 'identity providers', summary: 'Where the provider sends the browser back',
    description:
      'Checks the flow cookie and `state`, the RFC 9207 `iss` parameter, the code exchange with PKCE and the ID token (signature by the provider’s keys, `iss`, `aud`, `exp`, `nonce`). ' +
      'A known identity signs in; a new one signs up only if the provider allows it and says the address is verified, and never joins an existing account by email. ' +
      'Session mode: the session cookie, then `return_to`. Token mode: `return_to#code=…`, a single-use code (60 s) for `POST /auth/oidc/exchange` — no token is put in a URL. A link or re-authentication returns to `return_to`.',
    parameters: [
      PROVIDER_PARAM,
      { name: 'code', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'state', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'iss', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'error', in: 'query', required: false, schema: { type: 'string' } },
    ],
    responses: {
      '302': REDIRECT('To `return_to` (with `#code=…` in token mode).', 'The session cookie (session mode); the flow cookie cleared.'),
      ...problems('oidc_callback_invalid', 'oidc_denied', 'oidc_sign_up_closed', 'oidc_email_unverified', 'email_unverified', 'forbidden', 'unauthenticated', 'not_found', 'oidc_account_exists', 'identity_taken', 'oidc_provider_unavailable', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/oidc/exchange', operationId: 'exchangeProviderCode', tag: 'identity providers', summary: 'Trade a token-mode sign-in code for tokens',
    description: 'The code from the callback’s fragment, once, within 60 seconds. A DPoP proof binds the session like a token login; with `dpop_jkt` given at the start, it must be that key.',
    parameters: [DPOP_PROOF],
    body: body(obj({ code: { type: 'string', minLength: 1, maxLength: 512 }, refresh_transport: { type: 'string', enum: ['body', 'cookie'], default: 'body' } }, ['code'])),
    responses: {
      '200': { description: 'Signed in (token mode).', headers: SET_COOKIE('The refresh cookie (cookie transport).'), content: { 'application/json': { schema: ref('TokenGrant') } } },
      ...withOauthError(tokenProblems(...BODY, 'invalid_exchange_code', ...TOKEN_REQUEST_POP, ...CSRF, 'rate_limited', ...OUTAGE), 'invalid_exchange_code'),
    },
  },
  {
    method: 'post', path: '/auth/oidc/{provider}/backchannel-logout', operationId: 'providerBackchannelLogout', tag: 'identity providers', summary: 'OpenID Connect Back-Channel Logout: the provider ends sessions',
    description: 'The provider posts a `logout_token` (signature, `iss`, `aud`, `iat`, a `jti` not seen before, the logout event, no `nonce`). The sessions opened through that provider session (`sid`) or, without one, for that subject (`sub`) end on every instance.',
    parameters: [PROVIDER_PARAM],
    body: { required: true, content: { 'application/x-www-form-urlencoded': { schema: obj({ logout_token: { type: 'string' } }) } } },
    responses: {
      '200': json(obj({ ended: { type: 'integer', minimum: 0, description: 'Sessions ended.' } }), 'Logged out.'),
      ...withOauthError(problems('invalid_logout_token', 'unsupported_media_type', 'payload_too_large', 'not_found', 'rate_limited', ...OUTAGE), 'invalid_logout_token'),
    },
  },
  {
    method: 'get', path: '/auth/identities', operationId: 'listIdentities', tag: 'identity providers', summary: 'The user’s linked identities', security: COOKIE_OR_BEARER,
    responses: {
      '200': json(obj({ identities: { type: 'array', items: ref('Identity') }, has_password: { type: 'boolean', description: 'False for an account made through a provider: it signs in only through its identities or a passkey until a reset link sets a password.' } }), 'The identities, oldest first.'),
      ...problems(...AUTH, ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/identities/link', operationId: 'linkIdentity', tag: 'identity providers', summary: 'Start linking an identity at a provider (recent authentication)', security: COOKIE_OR_BEARER,
    description: 'Sets the flow cookie and answers the URL to send the browser to; the callback links the identity to this session’s user, in this browser only.',
    body: body(obj({ provider: { type: 'string' }, return_to: { type: 'string', default: '/account' } }, ['provider'])),
    responses: { '200': json(obj({ authorization_url: { type: 'string', format: 'uri' } }), 'Where to send the browser.'), ...problems(...BODY, ...AUTH, 'not_found', 'reauth_required', ...CSRF, 'rate_limited', 'oidc_provider_unavailable', ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/identities/reauth', operationId: 'reauthWithIdentity', tag: 'identity providers', summary: 'Re-authenticate the current session at a linked provider', security: COOKIE_OR_BEARER,
    description: 'For accounts that sign in through a provider: the callback, with an identity linked to this user, moves the session’s `auth_time` and adds `fed` to its `amr`.',
    body: body(obj({ provider: { type: 'string' }, return_to: { type: 'string', default: '/account' } }, ['provider'])),
    responses: { '200': json(obj({ authorization_url: { type: 'string', format: 'uri' } }), 'Where to send the browser.'), ...problems(...BODY, ...AUTH, 'not_found', ...CSRF, 'rate_limited', 'oidc_provider_unavailable', ...OUTAGE) },
  },
  {
    method: 'delete', path: '/auth/identities/{id}', operationId: 'unlinkIdentity', tag: 'identity providers', summary: 'Unlink an identity (recent authentication; never the last way in)', security: COOKIE_OR_BEARER,
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }],
    responses: { '204': { description: 'Unlinked.' }, ...problems(...AUTH, 'not_found', 'reauth_required', 'last_way_in', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/me', operationId: 'me', tag: 'auth', summary: 'The signed-in user and session', security: COOKIE_OR_BEARER,
    responses: { '200': json(obj({ user: ref('User'), session: ref('CurrentSession') }), 'The user and the current session.'), ...problems(...AUTH, ...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/session', operationId: 'currentSession', tag: 'auth', summary: 'The signed-in user and session, or null: a check that is not a use',
    description: 'Like `GET /auth/me`, but a request without a credential (or with a stale session cookie, which is then cleared) gets 200 with `user` and `session` null instead of a 401, and the session\'s idle expiry is not extended: a page may ask now and then whether its session still lives without keeping an idle session alive. A bearer token that is presented and refused is still a 401 `invalid_token`.',
    security: [{}, ...COOKIE_OR_BEARER],
    responses: {
      '200': json(
        { oneOf: [obj({ user: ref('User'), session: ref('CurrentSession') }), obj({ user: { type: 'null' }, session: { type: 'null' } })] },
        'The user and the current session, or both null when this request carries no valid sign-in.',
      ),
      ...problems('invalid_token', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/logout', operationId: 'logout', tag: 'auth', summary: 'End the current session', security: COOKIE_OR_BEARER, body: emptyBody,
    responses: { '204': { description: 'Signed out; the session cookie is cleared.' }, ...problems(...BODY, ...AUTH, ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/refresh', operationId: 'refresh', tag: 'auth', summary: 'Exchange a refresh token for new tokens',
    description: 'The refresh token comes from the body or, when the body has none, from the refresh cookie; the new one goes back the same way. Each refresh token is single-use: a reuse after the grace window revokes the whole session.',
    security: [{}, { refreshCookie: [] }],
    parameters: [DPOP_PROOF],
    body: { required: false, content: { 'application/json': { schema: obj({ refresh_token: { type: 'string', maxLength: 512 } }, []) } } },
    responses: {
      '200': { description: 'New tokens.', headers: { ...SET_COOKIE('The rotated refresh cookie (cookie transport).'), ...DPOP_NONCE }, content: { 'application/json': { schema: ref('TokenGrant') } } },
      ...tokenProblems(...BODY, 'invalid_grant', ...TOKEN_REQUEST_POP, ...CSRF, 'rate_limited', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/dbsc/register', operationId: 'dbscRegister', tag: 'auth', summary: 'Register the browser key of a cookie session (DBSC)',
    description:
      'Called by the browser after a cookie login offered `Secure-Session-Registration`, with its `dbsc+jwt` proof in `Secure-Session-Response`: ES256, the new public key in the header `jwk`, the offered challenge as `jti` (`aud` and `iat` are checked when present). ' +
      'The session is then bound to that key (once; a bound session never takes another), and from then on needs the short bound cookie this answer sets, renewed at `refresh_url`. 404 when `GATEHOUSE_DBSC=off`.',
    security: [{ cookieAuth: [] }],
    parameters: [{ name: 'Secure-Session-Response', in: 'header', required: true, description: 'The registration proof, a structured-field string.', schema: { type: 'string' } }],
    responses: {
      '200': { description: 'Registered.', headers: SET_COOKIE('The short bound cookie `__Host-gatehouse-bound` (Max-Age: `GATEHOUSE_DBSC_COOKIE_TTL`).'), content: { 'application/json': { schema: ref('DbscInstructions') } } },
      ...problems('invalid_dbsc_proof', 'unauthenticated', 'not_found', ...CSRF, 'rate_limited', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/dbsc/refresh', operationId: 'dbscRefresh', tag: 'auth', summary: 'Renew the bound cookie of a DBSC session',
    description:
      'Called by the browser when the bound cookie is missing, naming its session in `Sec-Secure-Session-Id`. Without a proof: 403 with a challenge in `Secure-Session-Challenge`. ' +
      'With `Secure-Session-Response` signed by the registered key over a challenge of this session (once, within 5 minutes): a new bound cookie, the session instructions and the next challenge. ' +
      'A proof by another key is 400 (and audited as possible theft); an ended session, or one the session cookie does not name, is told `{"continue": false}`.',
    security: [{ cookieAuth: [] }],
    parameters: [
      { name: 'Sec-Secure-Session-Id', in: 'header', required: true, description: 'The session identifier, a structured-field string.', schema: { type: 'string' } },
      { name: 'Secure-Session-Response', in: 'header', required: false, description: 'The refresh proof, a structured-field string.', schema: { type: 'string' } },
    ],
    responses: {
      '200': {
        description: 'A new bound cookie and the next challenge, or `{"continue": false}`.',
        headers: { ...SET_COOKIE('The new bound cookie.'), 'Secure-Session-Challenge': { required: false, description: '`"challenge";id="session"`: the challenge for the next refresh.', schema: { type: 'string' } } },
        content: { 'application/json': { schema: { oneOf: [ref('DbscInstructions'), ref('DbscEnd')] } } },
      },
      ...withHeaders(problems('invalid_dbsc_proof', 'invalid_request', 'forbidden', ...CSRF, 'rate_limited', ...OUTAGE), '403', {
        'Secure-Session-Challenge': { required: false, description: 'With `forbidden`: `"challenge";id="session"`, the challenge to sign with the session key.', schema: { type: 'string' } },
      }),
    },
  },
  {
    method: 'get', path: '/auth/refresh', operationId: 'hasRefreshCookie', tag: 'auth', summary: 'Whether this browser holds a refresh cookie',
    description: 'The refresh cookie is HttpOnly and scoped to this path, so a page cannot see it. This answers whether the request carried one, without reading or spending it, so that a page calls `POST /auth/refresh` only when there is something to refresh.',
    security: [{}, { refreshCookie: [] }],
    responses: { '200': json(obj({ refresh_cookie: { type: 'boolean' } }), 'Whether exactly one refresh cookie came with the request.'), ...problems(...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/sessions', operationId: 'listSessions', tag: 'devices', summary: "The user's sessions (devices) in both modes", security: COOKIE_OR_BEARER,
    responses: { '200': json(obj({ sessions: { type: 'array', items: ref('Device') } }), 'Every live session of the user.'), ...problems(...AUTH, ...OUTAGE) },
  },
  {
    method: 'delete', path: '/auth/sessions/{id}', operationId: 'revokeSession', tag: 'devices', summary: 'Revoke one session (its access tokens stop at once)', security: COOKIE_OR_BEARER,
    parameters: [{ name: 'id', in: 'path', required: true, description: 'A session id from the list.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,86}$' } }],
    responses: { '204': { description: 'Revoked.' }, ...problems(...AUTH, 'not_found', 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/logout-others', operationId: 'logoutOthers', tag: 'devices', summary: 'Revoke every other session', security: COOKIE_OR_BEARER, body: emptyBody,
    responses: { '200': json(obj({ revoked: { type: 'integer', minimum: 0 } }), 'How many sessions were revoked.'), ...problems(...BODY, ...AUTH, 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/logout-all', operationId: 'logoutAll', tag: 'devices', summary: 'Revoke every session, this one included', security: COOKIE_OR_BEARER, body: emptyBody,
    responses: { '204': { description: 'Every session revoked; the session cookie is cleared.' }, ...problems(...BODY, ...AUTH, 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/reauth', operationId: 'reauth', tag: 'devices', summary: 'Step up: prove it is you again for sensitive actions', security: COOKIE_OR_BEARER,
    description:
      'With the password, a TOTP code or a passkey assertion (options from `POST /auth/reauth/options`). A user who has a second factor must use it: the password alone answers 403 `reauth_required` (`acr: "aal2"`). ' +
      'The session\'s `auth_time` moves to now and its `amr`/`acr` are raised (a bearer client refreshes to carry them in its access token).',
    body: body(obj({ password: { type: 'string' }, totp: { type: 'string', maxLength: 64 }, webauthn: { type: 'object' } }, [])),
    responses: {
      '200': json(obj({ reauthenticated_at: dateTime, valid_for: { type: 'integer', description: 'Seconds the confirmation lasts.' } }), 'Confirmed.'),
      ...problems(...BODY, ...AUTH, 'invalid_credentials', 'invalid_otp', 'invalid_webauthn', 'reauth_required', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/reauth/options', operationId: 'reauthOptions', tag: 'devices', summary: 'Passkey options for a step-up', security: COOKIE_OR_BEARER, body: emptyBody,
    responses: { '200': json(ref('WebAuthnRequestOptions'), 'Request options for the user\'s passkeys (challenge bound to this session).'), ...problems(...BODY, ...AUTH, 'no_second_factor', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/password', operationId: 'changePassword', tag: 'devices', summary: 'Change the password (other sessions are revoked)', security: COOKIE_OR_BEARER,
    body: body(obj({ current_password: { type: 'string' }, new_password: password })),
    responses: {
      '204': { description: 'Changed.' },
      ...problems(...BODY, ...AUTH, 'invalid_credentials', 'password_too_short', 'password_too_long', 'password_breached', 'reauth_required', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE),
    },
  },
  {
    method: 'delete', path: '/auth/account', operationId: 'deleteAccount', tag: 'devices', summary: 'Delete the account and every session', security: COOKIE_OR_BEARER,
    responses: { '204': { description: 'Deleted; the session cookie is cleared.' }, ...problems(...AUTH, 'reauth_required', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'get', path: '/auth/events', operationId: 'listEvents', tag: 'devices', summary: "The user's security events, newest first", security: COOKIE_OR_BEARER,
    parameters: [
      { name: 'limit', in: 'query', required: false, description: 'Page size.', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      { name: 'cursor', in: 'query', required: false, description: '`next_cursor` of the previous page.', schema: { type: 'string', pattern: '^[0-9a-v]{20}$' } },
    ],
    responses: {
      '200': json(obj({ events: { type: 'array', items: ref('Event') }, next_cursor: { ...nullable('string'), description: 'Pass as `cursor` for the next page; null on the last.' } }), 'One page of events.'),
      ...problems('invalid_field', ...AUTH, ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/verify-email', operationId: 'verifyEmail', tag: 'lifecycle', summary: 'Confirm the email address with the token from the mail',
    description: 'Verifies only for someone who holds the account the link was made for: signed in to it (cookie or bearer), or sending its `password`. Otherwise 401 `unauthenticated`, and the link stays usable; the owner of a mailbox someone else registered verifies nothing by clicking.',
    security: [{}, ...COOKIE_OR_BEARER],
    body: body(obj({ token: splitToken, password: { type: 'string', description: 'The account\'s password, when not signed in to it.' } }, ['token'])),
    responses: { '204': { description: 'Verified.' }, ...problems(...BODY, 'invalid_link', 'unauthenticated', 'invalid_credentials', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/verify-email/resend', operationId: 'resendVerification', tag: 'lifecycle', summary: 'Send the verification mail again', security: COOKIE_OR_BEARER, body: emptyBody,
    responses: {
      '202': json(obj({ status: { const: 'accepted' }, email_verified: { type: 'boolean', description: 'True when the address was already verified (no mail sent).' } }), 'Accepted.'),
      ...problems(...BODY, ...AUTH, ...CSRF, 'rate_limited', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/password-reset', operationId: 'requestPasswordReset', tag: 'lifecycle', summary: 'Mail a password reset link',
    description: 'The same 202 for every address, with or without an account.',
    body: body(obj({ email: { type: 'string', maxLength: 1024 } })),
    responses: { '202': json(ref('Accepted'), 'Accepted.'), ...problems(...BODY, ...CSRF, 'rate_limited', ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/password-reset/confirm', operationId: 'confirmPasswordReset', tag: 'lifecycle', summary: 'Set a new password with the token from the mail',
    description: 'The token is checked before the new password is hashed; attempts are limited per client IP.',
    body: body(obj({ token: splitToken, new_password: password })),
    responses: { '204': { description: 'Password set; every session of the user is revoked.' }, ...problems(...BODY, 'invalid_link', 'password_too_short', 'password_too_long', 'password_breached', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE) },
  },
  {
    method: 'post', path: '/auth/email', operationId: 'requestEmailChange', tag: 'lifecycle', summary: 'Mail a confirmation link to a new address', security: COOKIE_OR_BEARER,
    description: 'Needs the current password. The same 202 whether or not the new address has an account (which then gets no mail). Limited per account and per new address.',
    body: body(obj({
      new_email: { type: 'string', maxLength: 1024 },
      current_password: { type: 'string' },
      end_other_sessions: { type: 'boolean', default: false, description: 'End every other session of the account now, in both modes.' },
    }, ['new_email', 'current_password'])),
    responses: {
      '202': json(obj({ status: { const: 'accepted' }, sessions_ended: { type: 'integer', minimum: 0 } }), 'Accepted.'),
      ...problems(...BODY, ...AUTH, 'invalid_email', 'invalid_credentials', ...CSRF, 'rate_limited', 'password_hashing_busy', ...OUTAGE),
    },
  },
  {
    method: 'post', path: '/auth/email/confirm', operationId: 'confirmEmailChange', tag: 'lifecycle', summary: 'Move the account to the new address with the token from the mail',
    body: body(obj({ token: splitToken })),
    responses: { '204': { description: 'The address is changed.' }, ...problems(...BODY, 'invalid_link', 'email_taken', ...CSRF, ...OUTAGE) },
  },
  {
    method: 'get', path: '/.well-known/jwks.json', operationId: 'jwks', tag: 'discovery', summary: 'Public keys that verify access tokens (JWKS)',
    responses: { '200': { description: 'The key set.', content: { 'application/jwk-set+json': { schema: ref('JwkSet') } } } },
  },
  {
    method: 'get', path: '/.well-known/openid-configuration', operationId: 'discovery', tag: 'discovery', summary: 'Discovery document (issuer, JWKS URI)',
    responses: { '200': json(ref('Discovery'), 'The discovery document.') },
  },
  {
    method: 'get', path: '/.well-known/gatehouse-revocations', operationId: 'revocations', tag: 'discovery', summary: 'Hashes of recently revoked sessions, for verifiers in other services',
    description:
      'The sessions revoked within the access-token window (`window_seconds`), each as the base64url of the first 16 bytes of SHA-256 of its id (the `sid` claim), sorted: ' +
      'a verifier refuses a token whose `sid` hashes to an entry, and the list names no session or user to anyone without the token. ' +
      'Poll it with `If-None-Match` (an unchanged list is a 304). While this instance cannot be sure it has heard of every revocation (its change feed is down or replaying) the answer is 503, never an incomplete list.',
    parameters: [{ name: 'If-None-Match', in: 'header', required: false, description: 'The `ETag` of the list the verifier holds.', schema: { type: 'string' } }],
    responses: {
      '200': {
        description: 'The current list.',
        headers: { ETag: ETAG, 'Cache-Control': { description: '`no-cache`: revalidate on every use.', schema: { type: 'string' } } },
        content: { 'application/json': { schema: ref('RevocationList') } },
      },
      '304': { description: 'Unchanged since the `ETag` sent in `If-None-Match`.', headers: { ETag: ETAG } },
      ...problems('store_unavailable'),
    },
  },
  {
    method: 'get', path: '/auth/session/counters', operationId: 'sessionCounters', tag: 'server', summary: "The current session's requests and store use on this instance (standalone server)",
    description: 'Authenticated requests of the calling session on this server instance, and the session- and refresh-store reads and writes done for it, counted since `since` (this request is counted once answered). Shows that the steady state costs no store read per request. Only the caller\'s own session; counts live in a bounded in-process map.',
    security: COOKIE_OR_BEARER,
    responses: {
      '200': json(
        obj({ session_id: { type: 'string' }, requests: { type: 'integer', minimum: 0 }, store_reads: { type: 'integer', minimum: 0 }, store_writes: { type: 'integer', minimum: 0 }, since: dateTime }),
        'The counts.',
      ),
      ...problems(...AUTH, ...OUTAGE),
    },
  },
  // ------------------------------------------------------------------ the admin API (docs/admin.md)
  ...ADMIN_OPS,
  {
    method: 'get', path: '/healthz', operationId: 'health', tag: 'server', summary: 'Health check of the standalone server and its stores',
    responses: { '200': json(obj({ status: { const: 'ok' } }), 'Healthy.'), ...problems(...OUTAGE) },
  },
  {
    method: 'get', path: '/readyz', operationId: 'readiness', tag: 'server', summary: 'Readiness of this instance, dependency by dependency',
    description:
      'Whether a load balancer should send this instance traffic: the database and Redis (when configured) answer within the store timeout, the revocation feed is trusted (live and replayed), and a signing key is loaded. 503 while any required check fails; `/healthz` stays the cheap liveness check. A failed check carries a category (`timeout`, `unavailable`, `not_trusted`, `not_loaded`), never an error message.',
    responses: {
      '200': json(ref('Readiness'), 'Ready: every required check passes.'),
      ...problems('not_ready', 'internal'),
    },
  },
  {
    method: 'get', path: '/metrics', operationId: 'metrics', tag: 'server', summary: 'Prometheus metrics (when enabled with GATEHOUSE_METRICS_TOKEN)',
    description:
      'The Prometheus text exposition (docs/operations.md lists every metric). Served on the main port only when `GATEHOUSE_METRICS_TOKEN` is set, and then only with `Authorization: Bearer <token>`; with `GATEHOUSE_METRICS_PORT` it is served on that port (loopback by default) instead, without a token. Neither set: 404.',
    security: [{ metricsToken: [] }],
    responses: {
      '200': { description: 'The metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
      ...problems('unauthenticated', 'not_found', 'internal'),
    },
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'openapi', tag: 'server', summary: 'This document',
    responses: { '200': json({ type: 'object' }, 'The OpenAPI 3.1 document.') },
  },
];

const CHECK = obj({ ok: { type: 'boolean' }, required: { type: 'boolean' }, reason: { type: 'string', enum: ['timeout', 'unavailable', 'not_trusted', 'not_loaded'] } }, ['ok', 'required']);

const SCHEMAS: Record<string, Json> = {
  Readiness: obj({ status: { const: 'ready' }, checks: ref('ReadinessChecks') }),
  ReadinessChecks: obj({ database: CHECK, redis: CHECK, revocation_feed: CHECK, signing_key: CHECK }, ['database', 'revocation_feed', 'signing_key']),
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details. `code` is the stable, machine-readable error.',
    properties: {
      type: { type: 'string', format: 'uri', description: `\`${PROBLEM_TYPE_BASE}{code}\`` },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      code: { type: 'string', enum: [...ERROR_CODES] },
      detail: { type: 'string' },
      field: { type: 'string', description: 'The request field at fault, for input errors.' },
    },
    required: ['type', 'title', 'status', 'code'],
  },
  User: obj({ id: { type: 'string' }, email: { type: 'string' }, created_at: dateTime, email_verified: { type: 'boolean' } }),
  Session: obj({ id: { type: 'string' }, mode: { type: 'string', enum: ['session', 'token'] }, created_at: dateTime, expires_at: dateTime, idle_expires_at: dateTime, ...SESSION_AUTH, ...BINDING }),
  CurrentSession: obj(
    { id: { type: 'string' }, mode: { type: 'string', enum: ['session', 'token'] }, created_at: dateTime, expires_at: dateTime, idle_expires_at: dateTime, ...SESSION_AUTH, ...BINDING },
    ['id', 'mode', 'expires_at', 'amr', 'acr', 'auth_time', 'binding'],
    { description: 'A bearer request knows only what the access token carries: id, mode, its expiry and how the session was authenticated (`amr`, `acr`, `auth_time` claims).' },
  ),
  SessionLogin: obj({ user: ref('User'), session: ref('Session') }),
  TokenGrant: obj(
    {
      access_token: { type: 'string', description: 'A JWT (RFC 9068 profile) with the session id in `sid`, and `cnf.jkt` (the key thumbprint) when bound with DPoP.' },
      token_type: { type: 'string', enum: ['Bearer', 'DPoP'], description: '`DPoP`: the tokens are bound to the key of the request\'s DPoP proof and are used as `Authorization: DPoP` with a proof.' },
      expires_in: { type: 'integer', description: 'Seconds until the access token expires.' },
      refresh_token: { type: 'string', description: 'Absent with the cookie transport.' },
      user: ref('User'),
      session: ref('Session'),
    },
    ['access_token', 'token_type', 'expires_in', 'user', 'session'],
  ),
  Device: obj({
    id: { type: 'string' },
    current: { type: 'boolean' },
    mode: { type: 'string', enum: ['session', 'token'] },
    device: obj({ browser: nullable('string'), os: nullable('string'), type: nullable('string') }),
    ip: nullable('string'),
    created_at: dateTime,
    last_seen_at: dateTime,
    expires_at: dateTime,
    ...SESSION_AUTH,
    ...BINDING,
    provider: { ...nullable('string'), description: 'The identity provider the session was opened through, or null.' },
  }),
  IdentityProvider: obj({ id: { type: 'string' }, name: { type: 'string' }, sign_up: { type: 'boolean' }, start_url: { type: 'string' } }),
  Identity: obj({
    id: { type: 'string' },
    provider: { type: 'string' },
    provider_name: { type: 'string' },
    email: nullable('string'),
    email_verified: { type: 'boolean' },
    created_at: dateTime,
    last_used_at: { oneOf: [dateTime, { type: 'null' }] },
  }),
  DbscInstructions: obj(
    {
      session_identifier: { type: 'string', description: 'The session id (a public handle, as in the device list).' },
      refresh_url: { type: 'string', description: 'Where the browser renews the bound cookie.' },
      scope: obj({ include_site: { const: false }, scope_specification: { type: 'array', maxItems: 0 } }),
      credentials: { type: 'array', items: obj({ type: { const: 'cookie' }, name: { type: 'string' }, attributes: { type: 'string' } }) },
    },
    undefined,
    { description: 'The DBSC session instructions (W3C draft): this origin, one bound cookie.' },
  ),
  DbscEnd: obj({ continue: { const: false } }, undefined, { description: 'Stop refreshing this session (it ended, or is not the one the session cookie names).' }),
  Event: obj({
    id: { type: 'string' },
    type: { type: 'string', description: 'e.g. `login.succeeded`, `session.revoked`.' },
    at: dateTime,
    session_id: nullable('string'),
    ip: nullable('string'),
    user_agent: nullable('string'),
    detail: { type: ['object', 'null'], additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  }),
  AdminUser: obj({
    id: { type: 'string' },
    email: { type: 'string' },
    status: { type: 'string', enum: ['active', 'unverified', 'disabled'] },
    admin: { type: 'boolean' },
    created_at: dateTime,
    email_verified_at: { oneOf: [dateTime, { type: 'null' }] },
    disabled_at: { oneOf: [dateTime, { type: 'null' }] },
  }),
  AdminUserDetail: obj({
    user: ref('AdminUser'),
    sessions: { type: 'array', items: obj({
      id: { type: 'string' },
      mode: { type: 'string', enum: ['session', 'token'] },
      device: obj({ browser: nullable('string'), os: nullable('string'), type: nullable('string') }),
      ip: nullable('string'),
      created_at: dateTime,
      last_seen_at: dateTime,
      expires_at: dateTime,
      ...SESSION_AUTH,
      ...BINDING,
      provider: { ...nullable('string'), description: 'The identity provider the session was opened through, or null.' },
    }) },
    second_factors: obj({
      totp: { type: 'boolean', description: 'An authenticator app is set up.' },
      recovery_codes: { type: 'integer', description: 'Unused recovery codes left.' },
      passkeys: { type: 'array', items: ref('Passkey') },
    }),
    identities: { type: 'array', items: obj({ id: { type: 'string' }, provider: { type: 'string' }, email: nullable('string'), email_verified: { type: 'boolean' }, created_at: dateTime, last_used_at: { oneOf: [dateTime, { type: 'null' }] } }) },
  }),
  AdminEvent: obj({
    id: { type: 'string' },
    type: { type: 'string' },
    at: dateTime,
    user_id: nullable('string'),
    session_id: nullable('string'),
    actor: { ...nullable('string'), description: 'The administrator who took the action (their user id), or null.' },
    ip: nullable('string'),
    user_agent: nullable('string'),
    detail: { type: ['object', 'null'], additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  }),
  Accepted: obj({ status: { const: 'accepted' } }),
  RecoveryCodes: obj({ recovery_codes: { type: 'array', minItems: 10, maxItems: 10, items: { type: 'string', pattern: '^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$' }, description: 'Ten single-use codes, shown once.' } }),
  Passkey: obj({
    id: { type: 'string', description: 'The credential id (base64url).' },
    name: { type: 'string' },
    created_at: dateTime,
    last_used_at: { ...nullable('string'), format: 'date-time' },
    device_type: { type: 'string', enum: ['singleDevice', 'multiDevice'], description: '`multiDevice`: a synced passkey.' },
    backed_up: { type: 'boolean' },
    transports: { type: 'array', items: { type: 'string' } },
  }),
  WebAuthnCreationOptions: {
    type: 'object',
    description: '`PublicKeyCredentialCreationOptionsJSON` (WebAuthn Level 3).',
    properties: { challenge: { type: 'string' }, rp: { type: 'object' }, user: { type: 'object' }, pubKeyCredParams: { type: 'array' }, excludeCredentials: { type: 'array' }, authenticatorSelection: { type: 'object' }, timeout: { type: 'integer' }, attestation: { type: 'string' } },
    required: ['challenge', 'rp', 'user', 'pubKeyCredParams'],
  },
  WebAuthnRequestOptions: {
    type: 'object',
    description: '`PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3).',
    properties: { challenge: { type: 'string' }, rpId: { type: 'string' }, allowCredentials: { type: 'array' }, userVerification: { type: 'string' }, timeout: { type: 'integer' } },
    required: ['challenge', 'rpId'],
  },
  JwkSet: {
    type: 'object',
    properties: { keys: { type: 'array', items: { type: 'object', properties: { kid: { type: 'string' }, alg: { type: 'string' }, use: { const: 'sig' }, kty: { type: 'string' } }, required: ['kid', 'alg', 'use', 'kty'] } } },
    required: ['keys'],
  },
  RevocationList: obj({
    revoked: {
      type: 'array',
      description: 'Hashes of revoked session ids, sorted: base64url of the first 16 bytes of SHA-256 of the `sid`.',
      items: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
    },
    hash: { const: 'sha256-128' },
    window_seconds: { type: 'integer', minimum: 1, description: 'How long an entry stays listed: longer than any access token can live.' },
  }),
  Discovery: {
    type: 'object',
    properties: {
      issuer: { type: 'string', format: 'uri' },
      jwks_uri: { type: 'string', format: 'uri' },
      token_endpoint: { type: 'string', format: 'uri' },
      id_token_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
      token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
      grant_types_supported: { type: 'array', items: { type: 'string' } },
      response_types_supported: { type: 'array', items: { type: 'string' } },
      subject_types_supported: { type: 'array', items: { type: 'string' } },
    },
    required: ['issuer', 'jwks_uri'],
  },
};

const TAGS = [
  { name: 'auth', description: 'Registration, sign-in in either mode, the current user, sign-out and token refresh.' },
  { name: 'second factors', description: 'The second step of a password sign-in, authenticator apps (TOTP) and recovery codes.' },
  { name: 'passkeys', description: 'Passkeys (WebAuthn): registration, management and passwordless sign-in.' },
  { name: 'devices', description: 'Sessions of the user in both modes, re-authentication, password, account and security events.' },
  { name: 'identity providers', description: 'Signing in with OpenID Connect and OAuth 2.0 providers, linked identities and back-channel logout.' },
  { name: 'lifecycle', description: 'Email verification, password reset and email change by mailed link.' },
  { name: 'discovery', description: 'Public keys, discovery and the revocation list for services that verify access tokens.' },
  { name: 'admin', description: 'The admin API at `/admin/api` (administrators only; mounted by `gatehouse serve`, by an application only if it chooses). See docs/admin.md.' },
  { name: 'server', description: 'Endpoints of the standalone server only (not mounted by the framework adapters).' },
];

/** Every documented operation as `METHOD /path` with `:param` segments, as the router registers them. */
export function documentedRoutes(): string[] {
  return OPS.map((o) => `${o.method.toUpperCase()} ${o.path.replace(/\{([^}]+)\}/g, ':$1')}`);
}

export function buildOpenApi(version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const o of OPS) {
    const op: Json = { operationId: o.operationId, summary: o.summary, tags: [o.tag] };
    if (o.description) op.description = o.description;
    op.security = o.security ?? PUBLIC;
    if (o.parameters) op.parameters = o.parameters;
    if (o.body) op.requestBody = o.body;
    op.responses = o.responses;
    (paths[o.path] ??= {})[o.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse',
      version,
      summary: 'Server-side sessions and JWTs side by side, on one user and session model.',
      description:
        'Every sign-in creates one session. A cookie carries an opaque handle to it (`mode: "session"`); a short-lived JWT carries its id and a refresh token renews it (`mode: "token"`). ' +
        'Errors are RFC 9457 problems (`application/problem+json`) whose `code` is stable. ' +
        'The framework adapters mount the `/auth` routes at a base path of your choice and `/.well-known/*` at the root.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://localhost:3000', description: 'The standalone server with its defaults.' }],
    tags: TAGS,
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        cookieAuth: { type: 'apiKey', in: 'cookie', name: '__Host-gatehouse', description: 'The session cookie set by a session-mode login (HttpOnly, Secure, SameSite=Lax).' },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from a token-mode login or a refresh.' },
        dpopAuth: { type: 'http', scheme: 'DPoP', bearerFormat: 'JWT', description: 'A DPoP-bound access token (RFC 9449), with a `DPoP` header holding a fresh proof of its key for this request.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'The metrics token (`GATEHOUSE_METRICS_TOKEN`), for `/metrics` on the main port.' },
        refreshCookie: { type: 'apiKey', in: 'cookie', name: '__Secure-gatehouse-refresh', description: 'The refresh token with the cookie transport (HttpOnly, SameSite=Strict, Path=/auth/refresh).' },
      },
    },
  };
}

// Who is signed in, their devices (both modes) as cards with their own action, signing out, password
// and email change, and recent events. Every result is shown next to the action that caused it.
import { auth, endLocal, logout, onChange, request, withReauth } from '../api.js';
import { confirmAction } from '../dialogs.js';
import { busy, clearErrors, problemMessage, showProblem } from '../forms.js';
import { formatAgo, formatTime, has, t } from '../i18n.js';
import { providers } from '../providers.js';

/** Provider id → name, for the device cards. */
const providerNames = new Map();

export const template = 'page-account';
export const title = 'account.heading';
export const requiresAuth = true;

/** "Chrome on Linux", "curl", or "An app or script (token)" when the client said nothing about itself. */
export function deviceName(s) {
  const b = s.device?.browser;
  const os = s.device?.os;
  if (b && os) return t('device.on', { browser: b, os });
  if (b) return b;
  if (os) return t('device.unknownOn', { os });
  return t(s.mode === 'token' ? 'device.unknownTokenClient' : 'device.unknownBrowser');
}

/** How a session signed in, from its `amr` and `acr` (e.g. "Password + authenticator app · 2 factors"). */
function signedInWith(s) {
  const amr = s.amr ?? [];
  // Opened through an identity provider: its name (the devices page shows where a session came from).
  if (amr.includes('fed')) return `${providerNames.get(s.provider) ?? s.provider ?? 'SSO'} · ${t(s.acr === 'aal2' ? 'acr.aal2' : 'acr.aal1')}`;
  const key = amr.includes('migrated')
    ? 'migrated'
    : (amr.includes('hwk') || amr.includes('swk')) && amr.includes('pwd')
      ? 'pwdPasskey'
      : amr.includes('hwk') || amr.includes('swk')
        ? 'passkey'
        : amr.includes('otp')
          ? 'pwdOtp'
          : 'pwd';
  return `${t(`amr.${key}`)} · ${t(s.acr === 'aal2' ? 'acr.aal2' : 'acr.aal1')}`;
}

function fact(label, value, extra) {
  const div = document.createElement('div');
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value;
  if (extra) dd.title = extra;
  div.append(dt, dd);
  return div;
}

function timeEl(iso, text) {
  const el = document.createElement('time');
  el.dateTime = iso;
  el.textContent = text;
  el.title = formatTime(iso);
  return el;
}

export async function render(main, { navigate, announce, say }) {
  const who = main.querySelector('#whoami');
  const showWho = () => {
    who.textContent = t(auth.mode === 'token' ? 'account.whoami.token' : 'account.whoami.session', { email: auth.user?.email ?? '' });
    for (const u of main.querySelectorAll('input[name="username"]')) u.value = auth.user?.email ?? '';
  };
  showWho();

  // ---------------------------------------------------------------- email address
  const emailStatus = main.querySelector('#email-status');
  const emailState = main.querySelector('#email-state');
  const unverifiedBox = main.querySelector('#email-unverified');
  function showEmail() {
    main.querySelector('#email-current').textContent = auth.user?.email ?? '';
    const verified = auth.user?.email_verified === true;
    emailState.textContent = t(verified ? 'account.email.verified' : 'account.email.unverified');
    emailState.dataset.verified = String(verified);
    unverifiedBox.hidden = verified;
  }
  showEmail();

  const resend = main.querySelector('#resend-verification');
  resend.addEventListener('click', async () => {
    busy(resend, true);
    try {
      const res = await request('POST', '/auth/verify-email/resend', { json: {} });
      if (!auth.mode) return;
      if (!res.ok) return say(emailStatus, 'status.error', { message: problemMessage(res) }, 'error');
      if (res.body?.email_verified === true) {
        auth.user = { ...auth.user, email_verified: true };
        showEmail();
        say(emailStatus, 'status.alreadyVerified', {}, 'success');
      } else say(emailStatus, 'status.verificationSent', { email: auth.user?.email ?? '' }, 'success');
    } finally {
      busy(resend, false);
    }
  });

  // ---------------------------------------------------------------- devices
  const list = main.querySelector('#devices');
  const devicesStatus = main.querySelector('#devices-status');
  const othersBtn = main.querySelector('#logout-others');
  const othersNone = main.querySelector('#others-none');
  let sessions = [];

  function card(s) {
    const li = document.createElement('li');
    li.className = 'device';
    li.dataset.sessionId = s.id;
    li.dataset.mode = s.mode;
    if (s.current) li.dataset.current = 'true';
    const head = document.createElement('div');
    head.className = 'device-head';
    const name = document.createElement('h3');
    name.className = 'device-name';
    name.textContent = deviceName(s);
    head.append(name);
    if (s.current) {
      const badge = document.createElement('strong');
      badge.className = 'badge';
      badge.textContent = t('device.thisDevice');
      head.append(badge);
    }
    if (s.binding) {
      // DPoP (tokens) or DBSC (cookie): this session's credentials work only with the key its device holds.
      const bound = document.createElement('span');
      bound.className = 'badge bound';
      bound.textContent = t('device.bound');
      bound.title = t(`device.boundTitle.${s.binding}`);
      head.append(bound);
    }
    const facts = document.createElement('dl');
    facts.className = 'device-facts';
    facts.append(
      fact(t('device.mode'), t(`mode.${s.mode}`)),
      fact(t('device.signedInWith'), signedInWith(s)),
      fact(t('device.lastSeen'), s.current ? t('device.activeNow') : timeEl(s.last_seen_at, formatAgo(s.last_seen_at, 'device.activeNow'))),
      fact(t('device.signedIn'), timeEl(s.created_at, formatAgo(s.created_at))),
      fact(t('device.ip'), s.ip ?? '—'),
    );
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary small';
    b.textContent = t('device.signOut');
    b.setAttribute('aria-label', t(s.current ? 'device.signOutThisLabel' : 'device.signOutLabel', { device: deviceName(s), ip: s.ip ?? '—' }));
    b.addEventListener('click', () => void (s.current ? signOutHere() : revoke(s, b)));
    li.append(head, facts, b);
    return li;
  }

  // ---------------------------------------------------------------- linked identity providers
  const idList = main.querySelector('#identities');
  const idLinks = main.querySelector('#identity-links');
  const idStatus = main.querySelector('#identities-status');
  async function loadIdentities() {
    const [res, all] = await Promise.all([request('GET', '/auth/identities'), providers()]);
    if (!res.ok) return;
    const linked = new Set(res.body.identities.map((i) => i.provider));
    idList.replaceChildren(
      ...res.body.identities.map((i) => {
        const li = document.createElement('li');
        li.className = 'device';
        const name = document.createElement('strong');
        name.textContent = i.provider_name;
        const facts = document.createElement('p');
        facts.className = 'hint';
        facts.textContent = [i.email, t('account.identities.since', { when: formatTime(i.created_at) })].filter(Boolean).join(' · ');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'secondary small';
        b.textContent = t('account.identities.unlink');
        b.dataset.unlink = i.provider;
        b.addEventListener('click', async () => {
          busy(b, true);
          try {
            const out = await withReauth(() => request('DELETE', `/auth/identities/${encodeURIComponent(i.id)}`));
            if (out.cancelled) return;
            idStatus.textContent = out.ok ? t('account.identities.unlinked') : problemMessage(out);
            if (out.ok) await loadIdentities();
          } finally {
            busy(b, false);
          }
        });
        li.append(name, facts, b);
        return li;
      }),
    );
    if (res.body.identities.length === 0) {
      const li = document.createElement('li');
      li.className = 'hint';
      li.textContent = t('account.identities.none');
      idList.append(li);
    }
    idLinks.replaceChildren(
      ...all
        .filter((p) => !linked.has(p.id))
        .map((p) => {
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'secondary';
          b.textContent = t('account.identities.link', { provider: p.name });
          b.dataset.link = p.id;
          b.addEventListener('click', async () => {
            busy(b, true);
            try {
              const out = await withReauth(() => request('POST', '/auth/identities/link', { json: { provider: p.id, return_to: '/account' } }));
              if (out.cancelled) return;
              if (!out.ok) return void (idStatus.textContent = problemMessage(out));
              window.location.assign(out.body.authorization_url);
            } finally {
              busy(b, false);
            }
          });
          return b;
        }),
    );
  }
  void loadIdentities();

  async function loadDevices() {
    for (const p of await providers()) providerNames.set(p.id, p.name);
    const res = await request('GET', '/auth/sessions');
    if (!res.ok) return false;
    // This device first, then the most recently active.
    sessions = [...res.body.sessions].sort((a, b) => Number(b.current) - Number(a.current) || Date.parse(b.last_seen_at) - Date.parse(a.last_seen_at));
    list.replaceChildren(...sessions.map(card));
    const others = sessions.filter((s) => !s.current).length;
    othersBtn.disabled = others === 0;
    othersNone.hidden = others > 0;
    return true;
  }

  async function revoke(s, button) {
    busy(button, true);
    const res = await withReauth(() => request('DELETE', `/auth/sessions/${encodeURIComponent(s.id)}`));
    if (!auth.mode) return;
    if (button.isConnected) busy(button, false);
    if (res.cancelled) return say(devicesStatus, 'status.cancelled');
    // The lists first: the message is placed (and scrolled to) once the page no longer moves.
    await loadDevices();
    await loadEvents();
    if (!auth.mode) return;
    if (res.ok || res.code === 'not_found') say(devicesStatus, 'status.deviceSignedOut', { device: deviceName(s) }, 'success');
    else say(devicesStatus, 'status.error', { message: problemMessage(res) }, 'error');
  }

  async function signOutHere() {
    const res = await logout();
    if (!auth.mode) {
      announce('status.signedOut', {}, 'success');
      await navigate('/signin', { keepStatus: true });
    } else say(devicesStatus, 'status.error', { message: problemMessage(res) }, 'error');
  }

  main.querySelector('#refresh-devices').addEventListener('click', async () => {
    if (await loadDevices()) say(devicesStatus, 'status.devicesReloaded');
  });

  othersBtn.addEventListener('click', async () => {
    busy(othersBtn, true);
    try {
      const res = await withReauth(() => request('POST', '/auth/logout-others'));
      if (!auth.mode) return;
      if (res.cancelled) return say(devicesStatus, 'status.cancelled');
      await loadDevices();
      await loadEvents();
      if (!auth.mode) return;
      if (res.ok) {
        const n = res.body?.revoked ?? 0;
        say(devicesStatus, n === 0 ? 'status.othersNone' : 'status.othersSignedOut', { count: n }, 'success');
      } else say(devicesStatus, 'status.error', { message: problemMessage(res) }, 'error');
    } finally {
      if (othersBtn.isConnected) othersBtn.disabled = sessions.filter((s) => !s.current).length === 0;
      othersBtn.setAttribute('aria-busy', 'false');
    }
  });

  main.querySelector('#logout-all').addEventListener('click', async () => {
    const n = Math.max(1, sessions.length);
    const ok = await confirmAction({ heading: 'confirm.all.heading', text: n === 1 ? 'confirm.all.textOne' : 'confirm.all.text', confirm: 'confirm.all.button', vars: { count: n } });
    if (!ok) return say(devicesStatus, 'status.cancelled');
    const res = await withReauth(() => request('POST', '/auth/logout-all'));
    if (res.cancelled) return say(devicesStatus, 'status.cancelled');
    if (!auth.mode) return;
    if (res.ok) {
      endLocal(null);
      announce('status.allSignedOut', {}, 'success');
      await navigate('/signin', { keepStatus: true });
    } else say(devicesStatus, 'status.error', { message: problemMessage(res) }, 'error');
  });

  // ---------------------------------------------------------------- password and email change
  const pw = main.querySelector('#password-form');
  const pwStatus = main.querySelector('#password-status');
  pw.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(pw);
    pwStatus.textContent = '';
    const data = new FormData(pw);
    busy(pw, true);
    try {
      const res = await withReauth(() =>
        request('POST', '/auth/password', { json: { current_password: String(data.get('current_password')), new_password: String(data.get('new_password')) } }),
      );
      if (!auth.mode) return;
      if (res.cancelled) return say(pwStatus, 'status.cancelled');
      // The current password is the only thing checked here: say that, not "email or password".
      if (!res.ok) return showProblem(pw, res, { invalid_credentials: 'account.password.wrongCurrent' });
      pw.reset();
      await loadDevices();
      await loadEvents();
      say(pwStatus, 'status.passwordChanged', {}, 'success');
    } finally {
      busy(pw, false);
    }
  });

  const emailForm = main.querySelector('#email-form');
  const changeStatus = main.querySelector('#email-change-status');
  emailForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(emailForm);
    changeStatus.textContent = '';
    const data = new FormData(emailForm);
    const newEmail = String(data.get('new_email') ?? '').trim();
    const json = { new_email: newEmail, current_password: String(data.get('current_password') ?? ''), end_other_sessions: data.get('end_other_sessions') === 'true' };
    busy(emailForm, true);
    try {
      const res = await withReauth(() => request('POST', '/auth/email', { json }));
      if (!auth.mode) return;
      if (res.cancelled) return say(changeStatus, 'status.cancelled');
      if (!res.ok) {
        showProblem(emailForm, res, { invalid_credentials: 'account.password.wrongCurrent' });
        // The API refuses the current address as a new one with a generic invalid_field.
        if (res.code === 'invalid_field' && res.body?.field === 'new_email') emailForm.querySelector('[data-error-for="new_email"]').textContent = t('account.email.same');
        return;
      }
      emailForm.reset();
      const ended = res.body?.sessions_ended ?? 0;
      if (ended > 0) await loadDevices();
      say(changeStatus, ended > 0 ? 'status.emailChangeSentEnded' : 'status.emailChangeSent', { email: newEmail, count: ended }, 'success');
    } finally {
      busy(emailForm, false);
    }
  });

  // ---------------------------------------------------------------- events
  const evList = main.querySelector('#events');
  async function loadEvents() {
    const res = await request('GET', '/auth/events?limit=15');
    if (!res.ok) return;
    evList.replaceChildren();
    for (const e of res.body.events) {
      const li = document.createElement('li');
      const what = document.createElement('span');
      what.className = 'event-what';
      what.textContent = has(`event.${e.type}`) ? t(`event.${e.type}`) : e.type;
      const when = timeEl(e.at, formatAgo(e.at));
      when.className = 'muted';
      const ip = document.createElement('span');
      ip.className = 'muted';
      ip.textContent = e.ip ?? '';
      li.append(what, ' ', when, ' ', ip);
      evList.append(li);
    }
    if (res.body.events.length === 0) {
      const li = document.createElement('li');
      li.textContent = t('account.events.none');
      evList.append(li);
    }
  }

  // The liveness checks refresh what they learn (a verified address, say); the devices and the
  // relative times follow the same beat.
  let beat = 0;
  const off = onChange((e) => {
    if (e.type !== 'checked' || !main.isConnected) return;
    showWho();
    showEmail();
    if (++beat % 6 === 0) void loadDevices();
  });

  if (await loadDevices()) await loadEvents();
  return off;
}

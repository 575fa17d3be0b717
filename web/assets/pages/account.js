// Who is signed in, their devices (both modes), signing out, password change and recent events.
import { auth, endLocal, request, withReauth } from '../api.js';
import { busy, clearErrors, problemMessage, showProblem } from '../forms.js';
import { formatTime, has, t } from '../i18n.js';

export const template = 'page-account';
export const title = 'account.heading';
export const requiresAuth = true;

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

export async function render(main, { navigate, announce }) {
  const who = main.querySelector('#whoami');
  who.textContent = t(auth.mode === 'token' ? 'account.whoami.token' : 'account.whoami.session', { email: auth.user?.email ?? '' });

  const emailState = main.querySelector('#email-state');
  const unverifiedBox = main.querySelector('#email-unverified');
  function showEmail() {
    main.querySelector('#email-current').textContent = t('account.email.current', { email: auth.user?.email ?? '' });
    const verified = auth.user?.email_verified === true;
    emailState.textContent = t(verified ? 'account.email.verified' : 'account.email.unverified');
    emailState.dataset.verified = String(verified);
    unverifiedBox.hidden = verified;
  }
  showEmail();
  // The address may have been verified or changed in another tab since this page's sign-in began.
  void request('GET', '/auth/me').then((me) => {
    if (me.ok && me.body?.user && auth.mode && location.pathname === '/account') {
      auth.user = me.body.user;
      showEmail();
    }
  });

  const resend = main.querySelector('#resend-verification');
  resend.addEventListener('click', async () => {
    resend.disabled = true;
    try {
      const res = await request('POST', '/auth/verify-email/resend', { json: {} });
      if (!auth.mode) return;
      if (!res.ok) return announce('status.error', { message: problemMessage(res) }, 'error');
      if (res.body?.email_verified === true) {
        auth.user = { ...auth.user, email_verified: true };
        showEmail();
        announce('status.alreadyVerified', {}, 'success');
      } else announce('status.verificationSent', { email: auth.user?.email ?? '' }, 'success');
    } finally {
      resend.disabled = false;
    }
  });

  const emailForm = main.querySelector('#email-form');
  emailForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(emailForm);
    const newEmail = String(new FormData(emailForm).get('new_email') ?? '').trim();
    busy(emailForm, true);
    try {
      const res = await withReauth(() => request('POST', '/auth/email', { json: { new_email: newEmail } }));
      if (!auth.mode) return;
      if (!res.ok) {
        showProblem(emailForm, res);
        // The API refuses the current address as a new one with a generic invalid_field.
        if (res.code === 'invalid_field' && res.body?.field === 'new_email') emailForm.querySelector('[data-error-for="new_email"]').textContent = t('account.email.same');
        return;
      }
      emailForm.reset();
      announce('status.emailChangeSent', { email: newEmail }, 'success');
    } finally {
      busy(emailForm, false);
    }
  });

  const tbody = main.querySelector('#devices tbody');
  async function loadDevices() {
    const res = await request('GET', '/auth/sessions');
    if (!res.ok) return false;
    tbody.replaceChildren();
    for (const s of res.body.sessions) {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = s.id;
      if (s.current) tr.dataset.current = 'true';
      const browser = cell(s.device?.browser ?? t('device.unknown'));
      if (s.current) {
        const badge = document.createElement('strong');
        badge.className = 'badge';
        badge.textContent = t('device.thisDevice');
        browser.append(' ', badge);
      }
      if (s.binding) {
        // DPoP (tokens) or DBSC (cookie): this session's credentials work only with the key its device holds.
        const bound = document.createElement('span');
        bound.className = 'badge bound';
        bound.textContent = t('device.bound');
        bound.title = t(`device.boundTitle.${s.binding}`);
        browser.append(' ', bound);
      }
      tr.append(browser, cell(s.device?.os ?? t('device.unknown')), cell(s.ip ?? '—'), cell(t(`mode.${s.mode}`)), cell(formatTime(s.last_seen_at)));
      const act = document.createElement('td');
      if (!s.current) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'secondary small';
        b.textContent = t('device.signOut');
        b.setAttribute('aria-label', t('device.signOutLabel', { browser: s.device?.browser ?? t('device.unknown'), os: s.device?.os ?? t('device.unknown'), ip: s.ip ?? '—' }));
        b.addEventListener('click', () => void revoke(s.id));
        act.append(b);
      }
      tr.append(act);
      tbody.append(tr);
    }
    return true;
  }

  async function revoke(id) {
    const res = await withReauth(() => request('DELETE', `/auth/sessions/${encodeURIComponent(id)}`));
    if (!auth.mode) return;
    if (res.ok) announce('status.deviceSignedOut', {}, 'success');
    else announce('status.error', { message: problemMessage(res) }, 'error');
    await loadDevices();
    await loadEvents();
  }

  const evList = main.querySelector('#events');
  async function loadEvents() {
    const res = await request('GET', '/auth/events?limit=15');
    if (!res.ok) return;
    evList.replaceChildren();
    for (const e of res.body.events) {
      const li = document.createElement('li');
      const time = document.createElement('time');
      time.dateTime = e.at;
      time.textContent = formatTime(e.at);
      const what = document.createElement('span');
      what.textContent = has(`event.${e.type}`) ? t(`event.${e.type}`) : e.type;
      const ip = document.createElement('span');
      ip.className = 'muted';
      ip.textContent = e.ip ?? '';
      li.append(time, ' ', what, ' ', ip);
      evList.append(li);
    }
    if (res.body.events.length === 0) {
      const li = document.createElement('li');
      li.textContent = t('account.events.none');
      evList.append(li);
    }
  }

  main.querySelector('#refresh-devices').addEventListener('click', async () => {
    if (await loadDevices()) announce('status.devicesReloaded');
  });

  main.querySelector('#logout-this').addEventListener('click', async () => {
    const res = await request('POST', '/auth/logout');
    if (!auth.mode) return;
    if (res.ok) {
      endLocal(null);
      announce('status.signedOut', {}, 'success');
      await navigate('/signin', { keepStatus: true });
    } else announce('status.error', { message: problemMessage(res) }, 'error');
  });

  main.querySelector('#logout-others').addEventListener('click', async () => {
    const res = await withReauth(() => request('POST', '/auth/logout-others'));
    if (!auth.mode) return;
    if (res.ok) announce('status.othersSignedOut', { count: res.body?.revoked ?? 0 }, 'success');
    else announce('status.error', { message: problemMessage(res) }, 'error');
    await loadDevices();
    await loadEvents();
  });

  main.querySelector('#logout-all').addEventListener('click', async () => {
    const res = await withReauth(() => request('POST', '/auth/logout-all'));
    if (!auth.mode) return;
    if (res.ok) {
      endLocal(null);
      announce('status.allSignedOut', {}, 'success');
      await navigate('/signin', { keepStatus: true });
    } else announce('status.error', { message: problemMessage(res) }, 'error');
  });

  const pw = main.querySelector('#password-form');
  pw.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(pw);
    const data = new FormData(pw);
    busy(pw, true);
    try {
      const res = await withReauth(() =>
        request('POST', '/auth/password', { json: { current_password: String(data.get('current_password')), new_password: String(data.get('new_password')) } }),
      );
      if (!auth.mode) return;
      if (!res.ok) return showProblem(pw, res);
      pw.reset();
      announce('status.passwordChanged', {}, 'success');
      await loadDevices();
      await loadEvents();
    } finally {
      busy(pw, false);
    }
  });

  if (await loadDevices()) await loadEvents();
}

// Second factors: the authenticator app (QR code and key, confirmed by a first code), recovery codes
// (shown once, to copy or download), and passkeys (add, rename, remove).
import { auth, request, withReauth } from '../api.js';
import { busy, clearErrors, problemMessage, showProblem } from '../forms.js';
import { formatTime, t } from '../i18n.js';
import { createPasskey, passkeysSupported } from '../webauthn.js';

export const template = 'page-security';
export const title = 'security.heading';
export const requiresAuth = true;

export async function render(main, { announce }) {
  const state = main.querySelector('#totp-state');
  const start = main.querySelector('#totp-start');
  const setup = main.querySelector('#totp-setup');
  const remove = main.querySelector('#totp-remove');
  const confirmForm = main.querySelector('#totp-confirm-form');
  const codesLeft = main.querySelector('#codes-left');
  const regenerate = main.querySelector('#codes-regenerate');
  const list = main.querySelector('#passkeys');
  const addForm = main.querySelector('#passkey-add-form');
  let downloadUrl = null;

  async function load() {
    const s = await request('GET', '/auth/mfa');
    if (!s.ok || !auth.mode) return;
    state.textContent = t(s.body.totp ? 'security.totp.on' : 'security.totp.off');
    state.dataset.on = String(s.body.totp);
    start.hidden = s.body.totp || !setup.hidden;
    remove.hidden = !s.body.totp;
    codesLeft.textContent = t('security.codes.left', { n: s.body.recovery_codes_left });
    regenerate.hidden = !(s.body.totp || s.body.passkeys > 0);
    await loadPasskeys();
  }

  function showCodes(codes) {
    const box = main.querySelector('#codes-show');
    const ol = main.querySelector('#codes-list');
    ol.replaceChildren(...codes.map((c) => Object.assign(document.createElement('li'), { textContent: c })));
    box.hidden = false;
    const text = codes.join('\n') + '\n';
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    main.querySelector('#codes-download').href = downloadUrl;
    main.querySelector('#codes-copy').onclick = async () => {
      try {
        await navigator.clipboard.writeText(text);
        announce('status.codesCopied', {}, 'success');
      } catch {
        announce('status.error', { message: t('security.codes.copyFailed') }, 'error');
      }
    };
    box.focus();
  }

  start.addEventListener('click', async () => {
    const res = await withReauth(() => request('POST', '/auth/mfa/totp', { json: {} }));
    if (!auth.mode) return;
    if (!res.ok) return announce('status.error', { message: problemMessage(res) }, 'error');
    main.querySelector('#totp-qr').src = res.body.qr_svg;
    main.querySelector('#totp-secret').textContent = res.body.secret.match(/.{1,4}/g).join(' ');
    setup.hidden = false;
    start.hidden = true;
    main.querySelector('#totp-code').focus();
  });

  confirmForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(confirmForm);
    busy(confirmForm, true);
    try {
      const code = String(new FormData(confirmForm).get('code') ?? '').trim();
      const res = await request('POST', '/auth/mfa/totp/confirm', { json: { code } });
      if (!res.ok) return showProblem(confirmForm, res);
      setup.hidden = true;
      confirmForm.reset();
      announce('status.totpOn', {}, 'success');
      showCodes(res.body.recovery_codes);
      await load();
    } finally {
      busy(confirmForm, false);
    }
  });

  remove.addEventListener('click', async () => {
    const res = await withReauth(() => request('DELETE', '/auth/mfa/totp'));
    if (!auth.mode) return;
    if (!res.ok) return announce('status.error', { message: problemMessage(res) }, 'error');
    announce('status.totpOff', {}, 'success');
    main.querySelector('#codes-show').hidden = true;
    await load();
  });

  regenerate.addEventListener('click', async () => {
    const res = await withReauth(() => request('POST', '/auth/mfa/recovery-codes', { json: {} }));
    if (!auth.mode) return;
    if (!res.ok) return announce('status.error', { message: problemMessage(res) }, 'error');
    announce('status.codesNew', {}, 'success');
    showCodes(res.body.recovery_codes);
    await load();
  });

  async function loadPasskeys() {
    const res = await request('GET', '/auth/passkeys');
    if (!res.ok) return;
    list.replaceChildren();
    for (const p of res.body.passkeys) list.append(passkeyItem(p));
    if (res.body.passkeys.length === 0) list.append(Object.assign(document.createElement('li'), { textContent: t('security.passkeys.none'), className: 'muted' }));
  }

  function passkeyItem(p) {
    const li = document.createElement('li');
    li.className = 'passkey';
    const name = document.createElement('strong');
    name.textContent = p.name;
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = t('security.passkeys.meta', { created: formatTime(p.created_at), used: p.last_used_at ? formatTime(p.last_used_at) : t('security.passkeys.never') });
    const rename = document.createElement('button');
    rename.type = 'button';
    rename.className = 'secondary';
    rename.textContent = t('security.passkeys.rename');
    rename.setAttribute('aria-label', t('security.passkeys.renameLabel', { name: p.name }));
    rename.addEventListener('click', () => renameForm(li, p));
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger';
    del.textContent = t('security.passkeys.remove');
    del.setAttribute('aria-label', t('security.passkeys.removeLabel', { name: p.name }));
    del.addEventListener('click', async () => {
      const res = await withReauth(() => request('DELETE', `/auth/passkeys/${encodeURIComponent(p.id)}`));
      if (!auth.mode) return;
      if (!res.ok) return announce('status.error', { message: problemMessage(res) }, 'error');
      announce('status.passkeyRemoved', { name: p.name }, 'success');
      await load();
    });
    const actions = document.createElement('span');
    actions.className = 'actions';
    actions.append(rename, del);
    li.append(name, ' ', meta, actions);
    return li;
  }

  function renameForm(li, p) {
    const form = document.createElement('form');
    form.className = 'inline-form';
    form.noValidate = true;
    const id = `rename-${p.id.slice(0, 12)}`;
    const label = Object.assign(document.createElement('label'), { htmlFor: id, textContent: t('field.passkeyName') });
    const input = Object.assign(document.createElement('input'), { id, name: 'name', value: p.name, maxLength: 64, required: true });
    const err = Object.assign(document.createElement('p'), { className: 'field-error' });
    err.dataset.errorFor = 'name';
    const formErr = Object.assign(document.createElement('p'), { className: 'form-error' });
    formErr.dataset.errorFor = '_form';
    const save = Object.assign(document.createElement('button'), { type: 'submit', textContent: t('security.passkeys.save') });
    form.append(label, input, err, formErr, save);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const res = await request('PATCH', `/auth/passkeys/${encodeURIComponent(p.id)}`, { json: { name: input.value.trim() } });
      if (!res.ok) return showProblem(form, res);
      announce('status.passkeyRenamed', { name: input.value.trim() }, 'success');
      await load();
    });
    li.replaceChildren(form);
    input.focus();
  }

  if (!passkeysSupported()) {
    main.querySelector('#passkeys-unsupported').hidden = false;
    addForm.hidden = true;
  }
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(addForm);
    busy(addForm, true);
    try {
      const name = String(new FormData(addForm).get('name') ?? '').trim();
      const opts = await withReauth(() => request('POST', '/auth/passkeys/register/options', { json: {} }));
      if (!auth.mode) return;
      if (!opts.ok) return showProblem(addForm, opts);
      const response = await createPasskey(opts.body);
      if (!response) return showProblem(addForm, { code: 'cancelled', status: 0, body: { title: t('passkey.cancelled') } });
      const res = await request('POST', '/auth/passkeys/register', { json: { response, ...(name ? { name } : {}) } });
      if (!res.ok) return showProblem(addForm, res);
      addForm.reset();
      announce('status.passkeyAdded', { name: res.body.passkey.name }, 'success');
      await load();
    } finally {
      busy(addForm, false);
    }
  });

  await load();
  return () => {
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  };
}

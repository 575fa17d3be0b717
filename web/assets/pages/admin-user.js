// One user in the admin console: facts, the actions (each behind a confirmation dialog), sessions in
// both modes (each can be ended), second factors and passkeys (metadata only), linked identities and
// the user's latest events.
import { confirmAction } from '../dialogs.js';
import { problemMessage } from '../forms.js';
import { t } from '../i18n.js';
import { adminCall, cell, eventLabel, gate, statusTag, when } from '../admin-kit.js';

export const template = 'page-admin-user';
export const title = 'admin.user.heading';
export const requiresAuth = true;

const GATE = { refused: '#user-refused', body: '#user-body' };

function fact(dl, label, value) {
  const row = document.createElement('div');
  row.className = 'kv-row';
  const dt = document.createElement('dt');
  dt.textContent = t(label);
  const dd = document.createElement('dd');
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value ?? '—';
  row.append(dt, dd);
  dl.append(row);
}

export async function render(main, { navigate, announce }) {
  const id = new URLSearchParams(location.search).get('id') ?? '';
  const base = `/admin/api/users/${encodeURIComponent(id)}`;
  const status = main.querySelector('#user-status');
  const say = (key, vars = {}, kind = 'success') => {
    status.dataset.kind = kind;
    status.dataset.key = key;
    status.textContent = t(key, vars);
  };

  async function load() {
    const r = await adminCall('GET', base);
    if (!gate(main, r, GATE)) return null;
    const { user, sessions, second_factors: f, identities } = r.body;
    main.querySelector('#au-heading').textContent = user.email;
    document.title = `${user.email} · ${t('admin.heading')}`;

    const facts = main.querySelector('#user-facts');
    facts.replaceChildren();
    fact(facts, 'admin.user.id', user.id);
    fact(facts, 'admin.col.status', statusTag(user.status));
    fact(facts, 'admin.col.created', when(user.created_at));
    fact(facts, 'admin.user.verified', user.email_verified_at ? when(user.email_verified_at) : t('admin.user.notVerified'));
    fact(facts, 'admin.user.role', t(user.admin ? 'admin.user.roleAdmin' : 'admin.user.roleUser'));

    main.querySelector('#act-disable').hidden = user.status === 'disabled';
    main.querySelector('#act-enable').hidden = user.status !== 'disabled';
    main.querySelector('#act-resend').hidden = Boolean(user.email_verified_at);
    main.querySelector('#act-end-all').disabled = sessions.length === 0;

    const list = main.querySelector('#au-sessions');
    list.replaceChildren();
    main.querySelector('#au-no-sessions').hidden = sessions.length > 0;
    for (const s of sessions) {
      const li = document.createElement('li');
      li.className = 'device';
      li.dataset.session = s.id;
      const h = document.createElement('h3');
      h.className = 'device-name';
      const d = s.device;
      h.textContent = [d.browser, d.os].filter(Boolean).join(' · ') || t('admin.session.unknownDevice');
      const dl = document.createElement('dl');
      dl.className = 'device-facts';
      const row = (k, v) => {
        const div = document.createElement('div');
        div.append(Object.assign(document.createElement('dt'), { textContent: t(k) }), Object.assign(document.createElement('dd'), { textContent: v ?? '—' }));
        dl.append(div);
      };
      row('admin.session.mode', t(s.mode === 'token' ? 'admin.session.token' : 'admin.session.cookie'));
      row('admin.session.methods', `${s.amr.join(' + ')} · ${s.acr}`);
      row('admin.col.ip', s.ip);
      row('admin.session.lastSeen', when(s.last_seen_at));
      row('admin.session.expires', when(s.expires_at));
      if (s.provider) row('admin.session.provider', s.provider);
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'danger-outline small';
      end.textContent = t('admin.act.endOne');
      end.addEventListener('click', () =>
        act({ heading: 'admin.confirm.endOne.heading', text: 'admin.confirm.endOne.text', confirm: 'admin.act.endOne' }, 'DELETE', `${base}/sessions/${encodeURIComponent(s.id)}`, 'admin.done.endOne'),
      );
      li.append(h, dl, end);
      list.append(li);
    }

    const factors = main.querySelector('#au-factors');
    factors.replaceChildren();
    fact(factors, 'admin.user.totp', t(f.totp ? 'admin.user.on' : 'admin.user.off'));
    fact(factors, 'admin.user.recoveryCodes', String(f.recovery_codes));
    fact(factors, 'admin.user.passkeys', String(f.passkeys.length));
    main.querySelector('#au-passkeys').replaceChildren(
      ...f.passkeys.map((p) => Object.assign(document.createElement('li'), { className: 'passkey', textContent: `${p.name} · ${when(p.created_at)}` })),
    );
    main.querySelector('#act-reset-mfa').disabled = !f.totp && f.passkeys.length === 0 && f.recovery_codes === 0;

    main.querySelector('#au-no-identities').hidden = identities.length > 0;
    main.querySelector('#au-identities').replaceChildren(
      ...identities.map((i) => Object.assign(document.createElement('li'), { className: 'passkey', textContent: `${i.provider} · ${i.email ?? '—'} · ${when(i.created_at)}` })),
    );

    const ev = await adminCall('GET', `/admin/api/audit?user=${encodeURIComponent(user.id)}&limit=20`);
    if (ev.ok) {
      main.querySelector('#au-events').tBodies[0].replaceChildren(
        ...ev.body.events.map((e) => {
          const tr = document.createElement('tr');
          tr.dataset.type = e.type;
          tr.append(cell(when(e.at), 'when', 'admin.col.time'), cell(eventLabel(e.type), 'what', 'admin.col.event'), cell(e.actor, 'id', 'admin.col.actor'), cell(e.ip, 'id', 'admin.col.ip'));
          return tr;
        }),
      );
    }
    return user;
  }

  /** Asks, then does: the action's answer is said next to the actions, and the page reloaded. */
  async function act(question, method, path, done, after) {
    const user = main.querySelector('#au-heading').textContent;
    if (!(await confirmAction({ ...question, vars: { email: user } }))) return;
    const r = await adminCall(method, path);
    if (r.cancelled) return;
    if (!r.ok) return say('status.error', { message: problemMessage(r) }, 'error');
    if (after) return after(r);
    say(done, { email: user, n: r.body?.ended ?? 0 });
    await load();
  }

  const on = (sel, question, method, path, done, after) => main.querySelector(sel).addEventListener('click', () => act(question, method, path, done, after));
  on('#act-disable', { heading: 'admin.confirm.disable.heading', text: 'admin.confirm.disable.text', confirm: 'admin.act.disable' }, 'POST', `${base}/disable`, 'admin.done.disable');
  on('#act-enable', { heading: 'admin.confirm.enable.heading', text: 'admin.confirm.enable.text', confirm: 'admin.act.enable' }, 'POST', `${base}/enable`, 'admin.done.enable');
  on('#act-end-all', { heading: 'admin.confirm.endAll.heading', text: 'admin.confirm.endAll.text', confirm: 'admin.act.endAll' }, 'DELETE', `${base}/sessions`, 'admin.done.endAll');
  on('#act-reset-mfa', { heading: 'admin.confirm.resetMfa.heading', text: 'admin.confirm.resetMfa.text', confirm: 'admin.act.resetMfa' }, 'POST', `${base}/mfa/reset`, 'admin.done.resetMfa');
  on('#act-resend', { heading: 'admin.confirm.resend.heading', text: 'admin.confirm.resend.text', confirm: 'admin.act.resend' }, 'POST', `${base}/verification`, 'admin.done.resend');
  on('#act-delete', { heading: 'admin.confirm.delete.heading', text: 'admin.confirm.delete.text', confirm: 'admin.act.delete' }, 'DELETE', base, 'admin.done.delete', async () => {
    announce('admin.done.delete', { email: main.querySelector('#au-heading').textContent }, 'success');
    await navigate('/admin', { keepStatus: true });
  });

  await load();
  return null;
}

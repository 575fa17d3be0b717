// The admin console: a live panel of key figures (polled every few seconds while the page is
// visible), user search with cursor pages, and the audit trail across users with filters.
import { request } from '../api.js';
import { busy, clearErrors, showProblem } from '../forms.js';
import { formatClock, t } from '../i18n.js';
import { adminCall, cell, dayAfter, dayStart, eventLabel, gate, statusTag, when } from '../admin-kit.js';

export const template = 'page-admin';
export const title = 'admin.heading';
export const requiresAuth = true;

/** How often the live panel asks for new figures. */
export const POLL_MS = 5000;

// Suggestions for the event-type filter (any type the trail holds may be typed).
const EVENT_TYPES = (
  'login.succeeded login.failed mfa.required logout refresh.reuse_detected session.revoked sessions.revoked_all ' +
  'user.registered user.disabled user.enabled account.deleted mfa.reset email.verification_sent password.reset admin.granted admin.revoked'
).split(' ');

/** The query string of a filter form: its non-empty fields, dates turned into bounds. */
function queryOf(form, dates) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) {
    const s = String(v).trim();
    if (!s) continue;
    q.set(k, dates[k] ? dates[k](s) : s);
  }
  return q;
}

export async function render(main) {
  const first = await adminCall('GET', '/admin/api/stats');
  if (!gate(main, first)) return null;

  // ------------------------------------------------------------------ live panel
  const set = (id, text, attrs = {}) => {
    const el = main.querySelector(id);
    el.textContent = text;
    Object.assign(el.dataset, attrs);
  };
  const showStats = (s) => {
    set('#stat-succeeded', String(s.logins.succeeded));
    set('#stat-failed', String(s.logins.failed), { nonzero: String(s.logins.failed > 0) });
    set('#stat-mfa', String(s.logins.mfa_required));
    set('#stat-session', String(s.sessions.session));
    set('#stat-token', String(s.sessions.token));
    set('#stat-feed', t(s.revocation_feed.trusted ? 'admin.live.trusted' : 'admin.live.untrusted'), { state: s.revocation_feed.trusted ? 'trusted' : 'untrusted' });
    set('#stat-store', t('admin.live.ms', { ms: s.store.ping_ms }));
    set('#admin-live-updated', t('admin.live.updated', { time: formatClock(Date.now()) }));
  };
  showStats(first.body);
  let timer = 0;
  let stopped = false;
  const poll = async () => {
    // A hidden tab asks nothing; a refused poll (step-up due, role revoked) stops until the next visit.
    if (document.visibilityState === 'visible') {
      const r = await request('GET', '/admin/api/stats');
      if (stopped) return;
      if (!r.ok) {
        set('#admin-live-updated', t('admin.live.paused'));
        return;
      }
      showStats(r.body);
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };
  timer = setTimeout(poll, POLL_MS);

  // ------------------------------------------------------------------ users
  const userForm = main.querySelector('#user-search');
  const usersTable = main.querySelector('#users-table');
  const usersMore = main.querySelector('#users-more');
  let userQuery = new URLSearchParams();
  let userCursor = null;
  let userCount = 0;

  async function loadUsers(append) {
    const q = new URLSearchParams(userQuery);
    if (append && userCursor) q.set('cursor', userCursor);
    const r = await adminCall('GET', `/admin/api/users?${q}`);
    if (!r.ok) {
      if (!r.cancelled) showProblem(userForm, r);
      return;
    }
    const body = usersTable.tBodies[0];
    if (!append) {
      body.replaceChildren();
      userCount = 0;
    }
    for (const u of r.body.users) {
      const tr = document.createElement('tr');
      // One element in the cell (link and badge together), so the phone layout keeps them side by side.
      const who = document.createElement('span');
      const a = document.createElement('a');
      a.href = `/admin/user?id=${encodeURIComponent(u.id)}`;
      a.dataset.link = '';
      a.textContent = u.email;
      who.append(a);
      if (u.admin) {
        const b = document.createElement('span');
        b.className = 'badge admin';
        b.textContent = t('admin.badge');
        who.append(' ', b);
      }
      const name = cell(who, 'who', 'admin.col.email');
      tr.dataset.user = u.id;
      tr.append(name, cell(statusTag(u.status), null, 'admin.col.status'), cell(when(u.created_at), 'when', 'admin.col.created'));
      body.append(tr);
    }
    userCount += r.body.users.length;
    userCursor = r.body.next_cursor;
    usersTable.hidden = userCount === 0;
    usersMore.hidden = !userCursor;
    const count = main.querySelector('#users-count');
    count.textContent = t(userCursor ? 'admin.users.countMore' : 'admin.users.count', { n: userCount });
  }

  userForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(userForm);
    busy(userForm, true);
    try {
      userQuery = queryOf(userForm, { created_from: dayStart, created_to: dayAfter });
      await loadUsers(false);
    } finally {
      busy(userForm, false);
    }
  });
  usersMore.addEventListener('click', async () => {
    busy(usersMore, true);
    try {
      await loadUsers(true);
    } finally {
      busy(usersMore, false);
    }
  });

  // ------------------------------------------------------------------ audit
  const auditForm = main.querySelector('#audit-search');
  const auditTable = main.querySelector('#audit-table');
  const auditMore = main.querySelector('#audit-more');
  main.querySelector('#audit-types').replaceChildren(...EVENT_TYPES.map((v) => Object.assign(document.createElement('option'), { value: v })));
  let auditQuery = new URLSearchParams();
  let auditCursor = null;
  let auditCount = 0;

  async function loadAudit(append) {
    const q = new URLSearchParams(auditQuery);
    if (append && auditCursor) q.set('cursor', auditCursor);
    const r = await adminCall('GET', `/admin/api/audit?${q}`);
    if (!r.ok) {
      if (!r.cancelled) showProblem(auditForm, r);
      return;
    }
    const body = auditTable.tBodies[0];
    if (!append) {
      body.replaceChildren();
      auditCount = 0;
    }
    for (const e of r.body.events) {
      const tr = document.createElement('tr');
      tr.dataset.type = e.type;
      const user = cell('', 'id', 'admin.col.user');
      user.replaceChildren();
      if (e.user_id) {
        const a = document.createElement('a');
        a.href = `/admin/user?id=${encodeURIComponent(e.user_id)}`;
        a.dataset.link = '';
        a.textContent = e.user_id;
        user.append(a);
      } else user.textContent = '—';
      tr.append(cell(when(e.at), 'when', 'admin.col.time'), cell(eventLabel(e.type), 'what', 'admin.col.event'), user, cell(e.actor, 'id', 'admin.col.actor'), cell(e.ip, 'id', 'admin.col.ip'));
      body.append(tr);
    }
    auditCount += r.body.events.length;
    auditCursor = r.body.next_cursor;
    auditTable.hidden = auditCount === 0;
    auditMore.hidden = !auditCursor;
    main.querySelector('#audit-count').textContent = t(auditCursor ? 'admin.audit.countMore' : 'admin.audit.count', { n: auditCount });
  }

  auditForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(auditForm);
    busy(auditForm, true);
    try {
      auditQuery = queryOf(auditForm, { since: dayStart, until: dayAfter });
      await loadAudit(false);
    } finally {
      busy(auditForm, false);
    }
  });
  auditMore.addEventListener('click', async () => {
    busy(auditMore, true);
    try {
      await loadAudit(true);
    } finally {
      busy(auditMore, false);
    }
  });

  // A user id handed over from a user's page (?user=) fills the audit filter.
  const fromUser = new URLSearchParams(location.search).get('user');
  if (fromUser) main.querySelector('#au-user').value = fromUser;
  await Promise.all([loadUsers(false), loadAudit(false)]);

  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

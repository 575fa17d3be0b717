/**
 * OpenTelemetry spans through the API, recorded with the SDK's in-memory exporter: the span tree of a
 * login (store calls as children of the login span), authentication with its cache attribute, mail,
 * and no secret or personal data in any attribute.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) => spans.filter((s) => parentOf(s) === parent.spanContext().spanId && s.spanContext().traceId === parent.spanContext().traceId);

describe('traces', () => {
  let t: TestServer;
  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
    trace.disable();
    context.disable();
  });

  test('a login is one span whose children are its store calls; nothing in the attributes names the user or a secret', async () => {
    const email = uniqueEmail('trace');
    const reg = await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(reg.status, 201);
    await t.srv.gatehouse.outbox.idle();
    exporter.reset();

    const c = new Client(t.url);
    const r = await c.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    assert.equal(r.status, 200);
    const spans = exporter.getFinishedSpans();
    const logins = spans.filter((s) => s.name === 'gatehouse.login');
    assert.equal(logins.length, 1, spans.map((s) => s.name).join(', '));
    const login = logins[0]!;
    assert.equal(parentOf(login), undefined, 'the login span is a root here (no incoming HTTP span)');
    assert.equal(login.attributes['http.route'], '/auth/login');
    assert.equal(login.attributes['http.response.status_code'], 200);

    const children = childrenOf(spans, login);
    const ops = children.map((s) => s.attributes['gatehouse.store.operation']);
    for (const op of ['users.getUserByEmail', 'sessions.createSession', 'audit.appendEvent']) assert.ok(ops.includes(op), `${op} under the login span (got ${ops.join(', ')})`);
    for (const ch of children) {
      assert.match(ch.name, /^gatehouse\.store /);
      assert.ok(ch.startTime[0] * 1e9 + ch.startTime[1] >= login.startTime[0] * 1e9 + login.startTime[1], 'a child starts within its parent');
    }
    // Every span of this login belongs to its trace.
    for (const s of spans) assert.equal(s.spanContext().traceId, login.spanContext().traceId, s.name);

    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
    for (const secret of [email, email.split('@')[0]!, GOOD_PASSWORD, r.body.session.id, ...c.jar.values()]) assert.ok(!everything.includes(secret), `span data contains ${secret.slice(0, 12)}…`);
  });

  test('authentication: a span marked miss when the token is verified, hit when the cache decides it', async () => {
    const email = uniqueEmail('trace-auth');
    await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    const login = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    exporter.reset();
    for (let i = 0; i < 2; i++) assert.equal((await new Client(t.url).req('GET', '/auth/me', { bearer: login.body.access_token })).status, 200);
    const spans = exporter.getFinishedSpans();
    const requests = spans.filter((s) => s.name === 'gatehouse GET /auth/me');
    assert.equal(requests.length, 2);
    const auth = requests.map((req) => childrenOf(spans, req).filter((s) => s.name === 'gatehouse.authenticate'));
    assert.deepEqual(auth.map((a) => a.map((s) => s.attributes['gatehouse.auth.cache'])), [['miss'], ['hit']]);
    assert.deepEqual(auth.map((a) => a[0]!.attributes['gatehouse.auth.transport']), ['bearer', 'bearer']);
    assert.ok(!JSON.stringify(spans.map((s) => s.attributes)).includes(login.body.access_token.split('.')[2]));
  });

  test('a refresh has its span; mail sent for a registration is a child of the registration request', async () => {
    const email = uniqueEmail('trace-mail');
    exporter.reset();
    await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } });
    await t.srv.gatehouse.outbox.idle();
    let spans = exporter.getFinishedSpans();
    const register = spans.find((s) => s.name === 'gatehouse POST /auth/register');
    const mail = spans.find((s) => s.name === 'gatehouse.mail.send');
    assert.ok(register && mail, spans.map((s) => s.name).join(', '));
    assert.equal(parentOf(mail), register.spanContext().spanId);
    assert.deepEqual(mail.attributes, {}, 'no recipient or subject on the mail span');

    const login = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' } });
    exporter.reset();
    assert.equal((await new Client(t.url).req('POST', '/auth/refresh', { json: { refresh_token: login.body.refresh_token } })).status, 200);
    spans = exporter.getFinishedSpans();
    const refresh = spans.find((s) => s.name === 'gatehouse.refresh');
    assert.ok(refresh);
    assert.ok(childrenOf(spans, refresh).some((s) => s.attributes['gatehouse.store.operation'] === 'refreshTokens.rotateRefreshToken'));
  });
});

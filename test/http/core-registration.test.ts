import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

const register = (email: string, password: string) => new Client(t.url).req('POST', '/auth/register', { json: { email, password } });
const login = (email: string, password: string) => new Client(t.url).req('POST', '/auth/login', { json: { email, password } });

function assertProblem(r: { status: number; headers: Headers; body: any }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.body.code, code);
  assert.equal(r.body.status, status);
}

describe('registration', () => {
  test('POST /auth/register answers 201 with {user:{id, email, created_at}} and no secret', async () => {
    const email = uniqueEmail('reg');
    const r = await register(email, GOOD_PASSWORD);
    assert.equal(r.status, 201);
    assert.deepEqual(Object.keys(r.body), ['user']);
    assert.equal(typeof r.body.user.id, 'string');
    assert.equal(r.body.user.email, email);
    assert.ok(!Number.isNaN(Date.parse(r.body.user.created_at)));
    assert.doesNotMatch(r.text, /password|hash|argon/i);
  });

  test('the email is trimmed and keeps its display form', async () => {
    const email = uniqueEmail('Trim');
    const r = await register(`  ${email}  `, GOOD_PASSWORD);
    assert.equal(r.status, 201);
    assert.equal(r.body.user.email, email);
    assert.equal((await login(email.toLowerCase(), GOOD_PASSWORD)).status, 200);
  });

  test('an email over 254 characters is refused with 400 invalid_email', async () => {
    const r = await register(`${'a'.repeat(250)}@example.com`, GOOD_PASSWORD);
    assertProblem(r, 400, 'invalid_email');
  });
});

describe('email canonicalisation: a variant never becomes a second account that signs in as the first', () => {
  // Each case: the original address and a look-alike of it.
  const cases: Array<[string, (local: string) => string, (local: string) => string]> = [
    ['upper case', (l) => `${l}@example.com`, (l) => `${l.toUpperCase()}@EXAMPLE.COM`],
    ['NFD (decomposed accent)', (l) => `${l}\u00e9@example.com`, (l) => `${l}e\u0301@example.com`],
    ['Kelvin sign for k', (l) => `${l}k@example.com`, (l) => `${l}\u212a@example.com`],
    ['dotless ı for i', (l) => `${l}i@example.com`, (l) => `${l}\u0131@example.com`],
    ['dotted İ for i', (l) => `${l}i@example.com`, (l) => `${l}\u0130@example.com`],
  ];
  for (const [name, orig, variant] of cases) {
    test(`${name}: registering the variant does not let its password into the original, and the variant logs into the same account`, async () => {
      const local = `canon${process.pid}${Math.floor(Math.random() * 1e9)}`;
      const a = orig(local);
      const b = variant(local);
      assert.notEqual(a, b);
      const first = await register(a, GOOD_PASSWORD);
      assert.equal(first.status, 201);
      const otherPassword = 'a different passphrase 42';
      const second = await register(b, otherPassword);
      // The answer may not reveal the address is taken, but it must not create a usable second account.
      assert.ok(second.status === 201 || second.status === 409 || second.status === 400, `status ${second.status}`);
      assert.equal((await login(b, otherPassword)).status, 401, 'the variant password must not sign in');
      assert.equal((await login(a, otherPassword)).status, 401, 'the variant password must not sign into the original');
      const viaVariant = await login(b, GOOD_PASSWORD);
      assert.equal(viaVariant.status, 200, 'logging in with a variant of the email reaches the account');
      assert.equal(viaVariant.body.user.id, first.body.user.id);
    });
  }
});

describe('password rules', () => {
  test('7 characters is refused with 400 password_too_short, 8 is accepted', async () => {
    assertProblem(await register(uniqueEmail(), 'xk4!q9z'), 400, 'password_too_short');
    assert.equal((await register(uniqueEmail(), 'xk4!q9zw')).status, 201);
  });

  test('1024 bytes is accepted and 1025 bytes is refused with 400 password_too_long before any hashing', async () => {
    const ok = 'é'.repeat(512); // 1024 bytes in UTF-8
    assert.equal(Buffer.byteLength(ok), 1024);
    assert.equal((await register(uniqueEmail(), ok)).status, 201);
    const tooLong = ok + 'z';
    assertProblem(await register(uniqueEmail(), tooLong), 400, 'password_too_long');
  });

  test('a common breached password is refused with 400 password_breached', async () => {
    const r = await register(uniqueEmail(), 'password123');
    assertProblem(r, 400, 'password_breached');
    assert.ok(r.body.title.length > 0);
  });

  test('a 64+ character password works, and is never truncated: the same plus one character is a different password', async () => {
    const email = uniqueEmail('long');
    const pw = 'Q7'.repeat(40); // 80 characters
    assert.equal((await register(email, pw)).status, 201);
    assert.equal((await login(email, pw)).status, 200);
    assert.equal((await login(email, pw + 'x')).status, 401);
    assert.equal((await login(email, pw.slice(0, -1))).status, 401);
    assert.equal((await login(email, pw.slice(0, 72))).status, 401, 'a bcrypt-style 72-byte prefix must not sign in');
  });

  test('no composition rules: a long all-lowercase passphrase is accepted', async () => {
    assert.equal((await register(uniqueEmail(), 'tangerine umbrella walks slowly')).status, 201);
  });
});

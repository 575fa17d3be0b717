import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Client, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../support/server.js';
import { browserSkip, launchBrowser, onPage } from './support.js';

/**
 * An attacker's pages on another local origin: each auto-submits a form to Gatehouse, the only
 * kind of cross-origin write a page can make without CORS.
 */
function attackerServer(target: string, attackerEmail: string): Promise<Server> {
  const page = (form: string) =>
    `<!doctype html><html><body>${form}<script>document.forms[0].submit()</script></body></html>`;
  const routes: Record<string, string> = {
    '/logout-all': page(`<form method="POST" action="${target}/auth/logout-all"><input name="x" value="1"></form>`),
    '/logout-others': page(`<form method="POST" action="${target}/auth/logout-others"></form>`),
    // The classic JSON-in-text/plain trick: the body reads {"email":…,"password":…,"x":"="}.
    '/login': page(
      `<form method="POST" enctype="text/plain" action="${target}/auth/login"><input name='{"email":"${attackerEmail}","password":"${GOOD_PASSWORD}","x":"' value='"}'></form>`,
    ),
  };
  const srv = createServer((req, res) => {
    const body = routes[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html' });
    res.end(body ?? '');
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

describe('cross-site request forgery from another local origin', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let evil: Server;
  let base: string;
  let evilPort: number;
  const victim = uniqueEmail('victim');
  const attacker = uniqueEmail('attacker');

  before(async () => {
    t = await startTestServer();
    base = `http://localhost:${t.port}`;
    for (const email of [victim, attacker]) {
      assert.equal((await new Client(t.url).req('POST', '/auth/register', { json: { email, password: GOOD_PASSWORD } })).status, 201);
    }
    evil = await attackerServer(base, attacker);
    evilPort = (evil.address() as AddressInfo).port;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((r) => evil?.close(r));
  });

  async function signedInVictim(): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ locale: 'en-GB' });
    const page = await ctx.newPage();
    await page.goto(`${base}/signin`);
    await onPage(page, '/signin');
    await page.locator('main').getByLabel('Email address').fill(victim);
    await page.locator('main').getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.locator('main').getByRole('button', { name: 'Sign in' }).click();
    await onPage(page, '/account');
    return { ctx, page };
  }

  async function attack(ctx: BrowserContext, origin: string, path: string): Promise<void> {
    const page = await ctx.newPage();
    // The form navigates to Gatehouse's answer; wait for it so the request has been handled.
    const answered = page.waitForResponse((r) => r.url().startsWith(base + '/auth/'), { timeout: 10_000 });
    await page.goto(`${origin}${path}`);
    await answered;
    await page.close();
  }

  const me = (page: Page) => page.evaluate(async () => {
    const r = await fetch('/auth/me');
    return { status: r.status, email: r.ok ? ((await r.json()) as { user: { email: string } }).user.email : null };
  });

  for (const [label, origin] of [
    ['a cross-site origin (127.0.0.1)', () => `http://127.0.0.1:${evilPort}`],
    ['a same-site origin on another port (localhost)', () => `http://localhost:${evilPort}`],
  ] as const) {
    test(`a form POST to /auth/logout-all and /auth/logout-others from ${label} changes nothing`, async () => {
      const { ctx, page } = await signedInVictim();
      await attack(ctx, origin(), '/logout-all');
      await attack(ctx, origin(), '/logout-others');
      assert.deepEqual(await me(page), { status: 200, email: victim }, 'the victim is still signed in');
      await page.getByRole('button', { name: 'Refresh list' }).click();
      await page.locator('#devices-status').filter({ hasText: 'Device list updated.' }).waitFor();
      await ctx.close();
    });

    test(`a text/plain form POST to /auth/login from ${label} does not sign the browser in`, async () => {
      const ctx = await browser.newContext({ locale: 'en-GB' });
      const page = await ctx.newPage();
      await page.goto(`${base}/`);
      await attack(ctx, origin(), '/login');
      assert.deepEqual(await me(page), { status: 401, email: null }, 'no session was planted');
      assert.equal((await ctx.cookies()).some((c) => c.name === '__Host-gatehouse'), false);
      await ctx.close();
    });
  }
});

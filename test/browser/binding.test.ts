/**
 * The devices page shows "bound to this device" for sessions bound to a device key, in both
 * transports: a token session bound with DPoP and a cookie session bound with DBSC (both made by the
 * spec-following test clients), beside the browser's own unbound session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { register } from '../support/flows.js';
import { DbscBrowser, DpopKey, parseRegistration, startPopServer } from '../support/pop.js';
import { Client, GOOD_PASSWORD, uniqueEmail, type TestServer } from '../support/server.js';
import { browserSkip, lowContrast, onPage, screenshot, startBrowserSuite, stopBrowserSuite, untranslated, watchPage } from './support.js';

const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const EDGE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

describe('devices page: bound sessions', { skip: browserSkip() }, () => {
  let t: TestServer;
  let browser: Browser;
  let base: string;
  before(async () => {
    ({ t, browser, base } = await startBrowserSuite(startPopServer()));
  });
  after(() => stopBrowserSuite(browser, t));

  test('a DPoP-bound app and a DBSC-bound browser are shown as bound to their device, in English and Korean, wide and narrow', async () => {
    const email = uniqueEmail('bound');
    await register(t, email);
    // An app on a phone, bound with DPoP.
    const key = await DpopKey.create('ES256', () => t.clock.now());
    const app = await new Client(t.url).req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD, mode: 'token' }, headers: { dpop: await key.proof({ htm: 'POST', htu: `${t.url}/auth/login` }), 'user-agent': PHONE } });
    assert.equal(app.body.token_type, 'DPoP');
    // A browser on Windows that registered a DBSC key.
    const edge = new Client(t.url);
    const login = await edge.req('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD }, headers: { 'user-agent': EDGE } });
    const offer = parseRegistration(login.headers.get('secure-session-registration'))!;
    const dbsc = await DbscBrowser.create(() => t.clock.now());
    assert.equal((await edge.req('POST', offer.path, { headers: { 'secure-session-response': DbscBrowser.header(await dbsc.registrationProof(offer.challenge)) } })).status, 200);

    for (const [locale, bound, signIn, viewports] of [
      ['en-GB', 'Bound to this device', 'Sign in', [[1280, 800], [390, 844]]],
      ['ko-KR', '이 기기에 묶임', '로그인', [[1280, 800]]],
    ] as const) {
      for (const [width, height] of viewports) {
        const ctx = await browser.newContext({ locale, viewport: { width, height } });
        const page = await ctx.newPage();
        const problems = watchPage(page);
        await page.goto(`${base}/signin`);
        await onPage(page, '/signin');
        await page.locator('main input[type=email]').fill(email);
        await page.locator('main input[type=password]').fill(GOOD_PASSWORD);
        await page.locator('main').getByRole('button', { name: signIn }).click();
        await onPage(page, '/account');
        const rows = page.locator('#devices .device');
        await rows.nth(2).waitFor();
        const texts = await rows.allInnerTexts();
        const boundRows = texts.filter((r) => r.includes(bound));
        assert.equal(boundRows.length, 2, `${locale}: ${texts.join(' | ')}`);
        assert.ok(boundRows.some((r) => /Safari/.test(r)) && boundRows.some((r) => /Edge/.test(r)), texts.join(' | '));
        const mine = texts.find((r) => /Chrome/.test(r) && !/Edge/.test(r));
        assert.ok(mine && !mine.includes(bound), 'this browser did not register a key: not bound');
        const titles = await page.locator('#devices .badge.bound').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
        assert.ok(titles.every((x) => x && x.length > 20), 'each badge explains itself');
        await screenshot(page, `devices-bound-${locale}-${width}`);
        assert.deepEqual(await lowContrast(page), [], `${locale} ${width}`);
        assert.deepEqual(await untranslated(page), []);
        assert.deepEqual(problems, []);
        await ctx.close();
      }
    }
  });
});

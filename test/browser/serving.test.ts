import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ERROR_CODES } from '../../src/errors.js';
import { pickLanguage, WEB_CSP } from '../../src/server/web.js';
import { startTestServer, type TestServer } from '../support/server.js';

const WEB = join(process.cwd(), 'web');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

describe('serving the web UI', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t?.close());

  test('every page is HTML with the strict CSP, the security headers and no caching', async () => {
    for (const path of ['/', '/signin', '/signup', '/account', '/explorer']) {
      const res = await fetch(t.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('content-security-policy'), WEB_CSP);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      await res.text();
    }
    assert.equal(
      WEB_CSP,
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  });

  test('scripts, styles and messages are served with their types; the shell and other paths are not', async () => {
    const js = await fetch(t.url + '/assets/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    await js.text();
    const css = await fetch(t.url + '/assets/style.css');
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    await css.text();
    const ko = await fetch(t.url + '/i18n/ko.json');
    assert.equal((await ko.json())['signin.heading'], '로그인');
    for (const path of ['/index.html', '/assets/../index.html', '/assets/%2e%2e/index.html', '/web/index.html', '/Account', '/account/']) {
      const res = await fetch(t.url + path);
      assert.equal(res.status, 404, path);
      await res.text();
    }
  });

  test('an unknown page: a browser (Accept: text/html) gets the HTML "Page not found" with 404, an API client the problem', async () => {
    const browser = await fetch(t.url + '/nope', { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    assert.equal(browser.status, 404);
    assert.match(browser.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(browser.headers.get('content-security-policy'), WEB_CSP);
    const html = await browser.text();
    assert.match(html, /<main id="main" tabindex="-1"><h1[^>]*>Page not found<\/h1>/);
    for (const accept of [undefined, 'application/json', '*/*']) {
      const api = await fetch(t.url + '/nope', accept ? { headers: { accept } } : {});
      assert.equal(api.status, 404, String(accept));
      assert.match(api.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal((await api.json()).code, 'not_found');
    }
    const post = await fetch(t.url + '/nope', { method: 'POST', headers: { accept: 'text/html' } });
    assert.match(post.headers.get('content-type') ?? '', /^application\/problem\+json/, 'only page loads get the page');
    await post.text();
  });

  test('the shell comes in the chosen language: its text filled in, the messages as a JSON data block (never run), a loading line', async () => {
    const res = await fetch(t.url + '/signin', { headers: { 'accept-language': 'ko' } });
    const html = await res.text();
    assert.match(html, /<a href="\/signup" data-link data-i18n="nav.signup">회원가입<\/a>/);
    assert.match(html, /<main id="main" tabindex="-1"><h1 data-i18n="signin.heading">로그인<\/h1><p class="loading">불러오는 중…<\/p><\/main>/);
    const blocks = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    for (const [, attrs, body] of blocks) {
      if (/\ssrc=/.test(attrs!)) assert.equal(body, '');
      else assert.match(attrs!, /type="application\/json"/, 'the only inline script element is data');
    }
    const data = blocks.find(([, attrs]) => /id="messages"/.test(attrs!))!;
    assert.equal(JSON.parse(data[2]!)['signin.heading'], '로그인');
    assert.doesNotMatch(data[2]!, /<\//, 'nothing in the data can close the element');
  });

  test('the documents the explorer links to are served as UTF-8 text', async () => {
    for (const [path, text] of [
      ['/docs/choosing.md', /how to choose/],
      ['/docs/choosing.ko.md', /세션/],
      ['/docs/README.ko.md', /빠른 시작/],
    ] as const) {
      const res = await fetch(t.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(await res.text(), text);
    }
  });

  test('the API under /auth is not shadowed by the pages', async () => {
    const res = await fetch(t.url + '/auth/me');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    await res.text();
  });

  test('the language comes from ?lang, then the lang cookie, then Accept-Language', async () => {
    const langOf = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(t.url + path, { headers });
      const html = await res.text();
      return { lang: /<html lang="(\w+)">/.exec(html)?.[1], setCookie: res.headers.get('set-cookie') };
    };
    assert.equal((await langOf('/')).lang, 'en');
    assert.equal((await langOf('/', { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.8' })).lang, 'ko');
    assert.equal((await langOf('/', { 'accept-language': 'ko;q=0.2, en;q=0.9' })).lang, 'en');
    assert.equal((await langOf('/', { 'accept-language': 'ko', cookie: 'lang=en' })).lang, 'en');
    const q = await langOf('/signin?lang=ko', { cookie: 'lang=en' });
    assert.equal(q.lang, 'ko');
    assert.match(q.setCookie ?? '', /^lang=ko; Path=\/; Max-Age=\d+; SameSite=Lax$/);
    assert.equal((await langOf('/?lang=xx')).lang, 'en');
    assert.equal(pickLanguage('fr-CH, fr;q=0.9, ko;q=0.5, *;q=0.1'), 'ko');
    assert.equal(pickLanguage('de'), null);
  });
});

describe('the web UI sources', () => {
  const en = JSON.parse(readFileSync(join(WEB, 'i18n', 'en.json'), 'utf8')) as Record<string, string>;
  const ko = JSON.parse(readFileSync(join(WEB, 'i18n', 'ko.json'), 'utf8')) as Record<string, string>;
  const html = readFileSync(join(WEB, 'index.html'), 'utf8');
  const scripts = files(join(WEB, 'assets')).filter((f) => f.endsWith('.js'));

  test('English and Korean have the same message keys, none empty', () => {
    assert.deepEqual(Object.keys(ko).sort(), Object.keys(en).sort());
    for (const [k, v] of [...Object.entries(en), ...Object.entries(ko)]) assert.ok(v.trim().length > 0, k);
  });

  test('every key the HTML and the scripts use exists in the messages', () => {
    const used = new Set<string>();
    for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1]!);
    for (const f of scripts) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/\b(?:t|announce|log)\('([a-z]+\.[A-Za-z.]+)'/g)) used.add(m[1]!);
      for (const m of src.matchAll(/\bsay\([^,]+, '([a-z]+\.[A-Za-z.]+)'/g)) used.add(m[1]!);
      // Keys chosen in data: `{ heading: 'confirm.all.heading', … }`, `'status.error'` in ternaries.
      for (const m of src.matchAll(/'((?:status|confirm|revoke|explorer|account|device|timer|expiry|counters|record|cookie|lab|xss|call|jwt|claim|error|time|password|form)\.[A-Za-z.-]+)'/g)) used.add(m[1]!);
    }
    assert.ok(used.size > 100, `found ${used.size} keys`);
    for (const k of used) assert.ok(k in en, `missing message ${k}`);
  });

  test('every API error code has a message of its own', () => {
    for (const code of ERROR_CODES) assert.ok(`error.${code}` in en, `missing message error.${code}`);
  });

  test('the HTML holds no text of its own, no inline script or style, and no third-party URL', () => {
    const text = html
      .replace(/<script[\s\S]*?<\/script>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    // Only the language names in the switch, which are shown in their own language by design.
    assert.equal(text, 'English 한국어');
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'inline script');
    assert.doesNotMatch(html, /\sstyle=|<style/, 'inline style');
    assert.doesNotMatch(html, /\son[a-z]+=/, 'inline event handler');
    for (const f of [join(WEB, 'index.html'), ...files(join(WEB, 'assets'))]) assert.doesNotMatch(readFileSync(f, 'utf8'), /https?:\/\//, f);
  });

  test('tokens are never written to web storage', () => {
    for (const f of scripts) assert.doesNotMatch(readFileSync(f, 'utf8'), /localStorage|sessionStorage|indexedDB/, f);
  });
});

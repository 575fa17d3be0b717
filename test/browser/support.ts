/**
 * Browser test support: Debian's Chromium through playwright-core (never a downloaded browser),
 * a real-time server clock for token expiry, screenshots under test-results/screenshots.
 */
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { TestClock } from '../support/clock.js';
import type { TestServer } from '../support/server.js';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MISSING = `Chromium not found at ${CHROMIUM}; install it with: apt-get update && apt-get install -y chromium`;

/**
 * `skip` option for a browser suite: outside CI a missing Chromium skips with a message; under
 * CI=true the suite runs and `launchBrowser` fails with that message.
 */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return MISSING;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

/** A browser suite's server, Chromium, and the server's localhost URL the pages open. */
export interface BrowserSuite {
  t: TestServer;
  browser: Browser;
  base: string;
}

/** Waits for the server, then launches Chromium; if the launch fails the server is closed again. */
export async function startBrowserSuite(server: Promise<TestServer>): Promise<BrowserSuite> {
  const t = await server;
  try {
    return { t, browser: await launchBrowser(), base: `http://localhost:${t.port}` };
  } catch (e) {
    await t.close();
    throw e;
  }
}

/** Closes what `startBrowserSuite` opened (either may be missing when `before` failed). */
export async function stopBrowserSuite(browser: Browser | undefined, t: TestServer | undefined): Promise<void> {
  await browser?.close();
  await t?.close();
}

/** Follows the wall clock: token expiry in the browser and on the server agree. */
export class RealClock extends TestClock {
  override now(): number {
    return Date.now();
  }
}

const SHOTS = join(process.cwd(), 'test-results', 'screenshots');

/**
 * Saves a full-page screenshot (or its top `height` pixels); with GATEHOUSE_UPDATE_DOC_IMAGES=1 also
 * refreshes docs/img/<doc>.png.
 */
export async function screenshot(page: Page, name: string, doc?: string, height?: number): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  const width = page.viewportSize()?.width ?? 1280;
  await page.screenshot({ path: file, fullPage: true, ...(height ? { clip: { x: 0, y: 0, width, height } } : {}) });
  if (doc && process.env.GATEHOUSE_UPDATE_DOC_IMAGES === '1') {
    mkdirSync(join(process.cwd(), 'docs', 'img'), { recursive: true });
    copyFileSync(file, join(process.cwd(), 'docs', 'img', `${doc}.png`));
  }
}

/** Saves a screenshot of one element (a section of a long page), under test-results/screenshots. */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await locator.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/**
 * Collects CSP violations (from the console and from `securitypolicyviolation` events, which catch
 * what the console may not name) and uncaught page errors, which every test asserts stay empty.
 */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    if (m.text().startsWith('csp-violation:')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  void page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.warn(`csp-violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return problems;
}

/** Every console error, and every Chromium [DOM] advice (e.g. password fields without a username field). */
export function consoleLog(page: Page): { errors: string[]; dom: string[] } {
  const out = { errors: [] as string[], dom: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error') out.errors.push(`${m.text()} (${m.location().url})`);
    if (m.text().startsWith('[DOM]')) out.dom.push(m.text());
  });
  return out;
}

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/**
 * What sticks out sideways: the page wider than the viewport, any element reaching past its right
 * edge, or a box that scrolls sideways inside the page (content hidden behind a scrollbar).
 */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > vw + 1) out.push('page is ' + document.documentElement.scrollWidth + ' px wide in ' + vw);
    const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
    for (const el of document.querySelectorAll('body *')) {
      if (el.closest('.skip, .sr-only, template, dialog:not([open])')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > vw + 1) out.push(name(el) + ' ends at ' + Math.round(r.right) + ' px');
      const st = getComputedStyle(el);
      if ((st.overflowX === 'auto' || st.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) out.push(name(el) + ' scrolls sideways (' + el.scrollWidth + ' in ' + el.clientWidth + ')');
    }
    return out.slice(0, 10);
  })()`) as Promise<string[]>;
}

/** Whether the element begins on screen (for a result taller than a phone's screen: its start is seen). */
export async function startsInViewport(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.top >= -1 && r.top < window.innerHeight - 20;
  }, selector);
}

/** Whether the element is wholly inside the viewport (the status of an action must be seen after it). */
export async function inViewport(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.top >= -1 && r.bottom <= window.innerHeight + 1 && r.left >= -1 && r.right <= window.innerWidth + 1;
  }, selector);
}

/** Waits until the single-page app has rendered `path`. */
export async function onPage(page: Page, path: string): Promise<void> {
  await page.waitForSelector(`main[data-page="${path}"]`, { timeout: 10_000 });
}

/** No `data-i18n` element may show its raw key: every text comes from the message files. */
export async function untranslated(page: Page): Promise<string[]> {
  return page.$$eval('[data-i18n]', (els) => els.filter((e) => e.textContent === (e as HTMLElement).dataset.i18n || e.textContent === '').map((e) => (e as HTMLElement).dataset.i18n!));
}

export async function storageIsEmpty(page: Page): Promise<boolean> {
  return page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 0);
}

export const FIREFOX_WINDOWS_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** A port free right now on 127.0.0.1, so a server can be told its own public URL before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Text whose colour contrast with its effective background is below 4.5:1 (WCAG AA), as
 * "text (ratio)". Walks every visible element that has its own text. Plain JavaScript in a string,
 * so the TypeScript loader adds no helpers the page does not have.
 */
const CONTRAST_CHECK = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p[3] ?? 1];
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')) continue;
    if (el.getClientRects().length === 0) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden') continue;
    const fg = lum(parse(st.color));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) out.push(el.textContent.trim().slice(0, 40) + ' (' + ratio.toFixed(2) + ')');
  }
  return out;
})()`;

export async function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(CONTRAST_CHECK) as Promise<string[]>;
}

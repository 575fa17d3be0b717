/** Device info from a User-Agent, with bowser (MIT, maintained). Bounded input, never throws. */
import Bowser from 'bowser';
import type { DeviceInfo } from '../ports.js';

const MAX_UA = 512;
const clip = (s: string | undefined, n = 40): string | null => (s ? s.slice(0, n) : null);

/**
 * The leading product token of a client that is not a browser (`curl/8.5.0`, `okhttp/4.12`,
 * `python-requests/2.31`, `node`), so a device list names it instead of showing nothing. `Mozilla`
 * names no product: it prefixes every browser's User-Agent, known or not.
 */
const PRODUCT = /^\s*([A-Za-z][A-Za-z0-9._+-]{0,39})(?:\/[A-Za-z0-9._+-]{1,32})?(?:\s|$|\()/;

function productName(ua: string): string | null {
  const name = PRODUCT.exec(ua)?.[1];
  return name && name.toLowerCase() !== 'mozilla' ? name : null;
}

export function parseDevice(userAgent: string | null | undefined): DeviceInfo {
  if (!userAgent) return { browser: null, os: null, type: null };
  const ua = userAgent.slice(0, MAX_UA);
  try {
    const r = Bowser.parse(ua);
    const named = r.browser.name && r.browser.name.toLowerCase() !== 'mozilla' ? clip(r.browser.name) : null;
    return { browser: named ?? productName(ua), os: clip(r.os.name), type: clip(r.platform.type, 16) };
  } catch {
    return { browser: productName(ua), os: null, type: null };
  }
}

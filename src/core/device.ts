/** Device info from a User-Agent, with bowser (MIT, maintained). Bounded input, never throws. */
import Bowser from 'bowser';
import type { DeviceInfo } from '../ports.js';

const MAX_UA = 512;
const clip = (s: string | undefined, n = 40): string | null => (s ? s.slice(0, n) : null);

export function parseDevice(userAgent: string | null | undefined): DeviceInfo {
  if (!userAgent) return { browser: null, os: null, type: null };
  try {
    const r = Bowser.parse(userAgent.slice(0, MAX_UA));
    return { browser: clip(r.browser.name), os: clip(r.os.name), type: clip(r.platform.type, 16) };
  } catch {
    return { browser: null, os: null, type: null };
  }
}

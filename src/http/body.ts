/**
 * JSON request bodies, bounded: application/json only (415 otherwise, so text/plain, form and
 * multipart — the content types a cross-site form can send — never reach a handler), at most
 * 16 KiB (413), nesting at most 8 levels, an object at the top, no prototype-polluting keys.
 */
import type { IncomingMessage } from 'node:http';
import { GatehouseError } from '../errors.js';

export const MAX_BODY_BYTES = 16 * 1024;
const MAX_DEPTH = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type JsonObject = Record<string, unknown>;

const parsed = new WeakMap<IncomingMessage, JsonObject>();

function isJsonType(ct: string): boolean {
  const base = ct.split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/json' || (base.startsWith('application/') && base.endsWith('+json'));
}

function check(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new GatehouseError('invalid_json', 'too deeply nested', { detail: `JSON nesting is limited to ${MAX_DEPTH} levels.` });
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) check(v, depth + 1);
    return;
  }
  for (const k of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(k)) throw new GatehouseError('invalid_field', 'forbidden key', { field: k, detail: `The key "${k}" is not allowed.` });
    check((value as JsonObject)[k], depth + 1);
  }
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: unknown) => {
      if (done) return;
      done = true;
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        fail(new GatehouseError('payload_too_large', 'body too large'));
        req.resume();
        return;
      }
      if (!done) chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', fail);
    req.on('aborted', () => fail(new GatehouseError('invalid_request', 'request aborted')));
  });
}

/** Parses the JSON body (once per request). A request without a body gets `{}`. */
export async function parseJsonBody(req: IncomingMessage): Promise<JsonObject> {
  const done = parsed.get(req);
  if (done) return done;
  const len = req.headers['content-length'];
  const hasBody = (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
  const ct = req.headers['content-type'];
  if (!hasBody) {
    if (ct && !isJsonType(ct)) throw new GatehouseError('unsupported_media_type', 'unsupported content type');
    parsed.set(req, {});
    return {};
  }
  if (!ct || !isJsonType(ct)) throw new GatehouseError('unsupported_media_type', 'unsupported content type');
  if (len !== undefined && Number(len) > MAX_BODY_BYTES) throw new GatehouseError('payload_too_large', 'body too large');
  const raw = await readRaw(req);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GatehouseError('invalid_json', 'malformed JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatehouseError('invalid_json', 'body must be a JSON object', { detail: 'The body must be a JSON object.' });
  }
  check(value, 1);
  parsed.set(req, value as JsonObject);
  return value as JsonObject;
}

/**
 * An `application/x-www-form-urlencoded` body (what an identity provider POSTs to the back-channel
 * logout endpoint), bounded like JSON bodies; another content type is 415.
 */
export async function parseFormBody(req: IncomingMessage): Promise<URLSearchParams> {
  const ct = req.headers['content-type'];
  if (!ct || ct.split(';', 1)[0]!.trim().toLowerCase() !== 'application/x-www-form-urlencoded') {
    throw new GatehouseError('unsupported_media_type', 'unsupported content type', { detail: 'Send the body as application/x-www-form-urlencoded.' });
  }
  const len = req.headers['content-length'];
  if (len !== undefined && Number(len) > MAX_BODY_BYTES) throw new GatehouseError('payload_too_large', 'body too large');
  return new URLSearchParams((await readRaw(req)).toString('utf8'));
}

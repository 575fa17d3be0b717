/** Field readers for JSON bodies: scalars only, so an array, object or null where a string belongs is a 400 naming the field. */
import { GatehouseError } from '../errors.js';
import type { JsonObject } from './body.js';

export function requiredString(body: JsonObject, field: string, maxChars = 4096): string {
  const v = body[field];
  if (typeof v !== 'string') {
    throw new GatehouseError('invalid_field', `${field} must be a string`, {
      field,
      detail: v === undefined ? `"${field}" is required.` : `"${field}" must be a string.`,
    });
  }
  if (v.length > maxChars) throw new GatehouseError('invalid_field', `${field} too long`, { field, detail: `"${field}" is too long.` });
  return v;
}

export function optionalString(body: JsonObject, field: string, maxChars = 4096): string | undefined {
  return body[field] === undefined ? undefined : requiredString(body, field, maxChars);
}

export function optionalEnum<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new GatehouseError('invalid_field', `${field} invalid`, { field, detail: `"${field}" must be one of: ${allowed.join(', ')}.` });
  }
  return v as T;
}

export function optionalBoolean(body: JsonObject, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new GatehouseError('invalid_field', `${field} must be a boolean`, { field, detail: `"${field}" must be true or false.` });
  return v;
}

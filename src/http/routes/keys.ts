/** Keys of the per-address budgets: a hash, so the counters (in Redis, maybe) never hold an address. */
import { createHash } from 'node:crypto';

export const hashKey = (s: string): string => createHash('sha256').update(s).digest('base64url').slice(0, 32);

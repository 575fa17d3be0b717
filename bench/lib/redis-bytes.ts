/**
 * Bytes per session in Redis, two ways:
 * - `redisBytesPerSession`: growth of INFO memory `used_memory` over `count` logins, divided by
 *   `count`. This counts everything a session costs (keys, values, expiry entries, any per-user
 *   index), the method behind the figures; other clients of the same Redis add noise.
 * - `redisKeyBytesPerSession`: `MEMORY USAGE` summed over every key under the variant's prefix,
 *   divided by the sessions made. Undisturbed by other clients, but blind to expiry-dict entries.
 */
import { createClient } from 'redis';
import type { Metrics, VariantContext } from './types.js';

export interface RedisBytesOptions {
  /** Every key the store writes for these sessions starts with this. */
  prefix: string;
  /** Sessions already present under the prefix before the count starts (the setup login). */
  existing: number;
  count: number;
  login(ctx: VariantContext, seq: number): Promise<void>;
  url: string;
}

export async function redisBytesPerSession(ctx: VariantContext, opts: RedisBytesOptions): Promise<Metrics> {
  const client = createClient({ url: opts.url });
  await client.connect();
  try {
    const before = await usedMemory(client);
    const parallel = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < opts.count) await opts.login(ctx, next++);
      }),
    );
    const after = await usedMemory(client);
    let bytes = 0;
    let keys = 0;
    for await (const batch of client.scanIterator({ MATCH: `${opts.prefix}*`, COUNT: 500 })) {
      for (const key of batch) {
        const usage = await client.memoryUsage(key, { SAMPLES: 0 });
        if (usage !== null) {
          bytes += usage;
          keys += 1;
        }
      }
    }
    const sessions = opts.count + opts.existing;
    return {
      redisBytesPerSession: Math.round((after - before) / opts.count),
      redisKeyBytesPerSession: Math.round(bytes / sessions),
      redisKeysPerSession: keys / sessions,
    };
  } finally {
    await client.quit();
  }
}

async function usedMemory(client: { info(section: string): Promise<string> }): Promise<number> {
  const m = /^used_memory:(\d+)/m.exec(await client.info('memory'));
  if (m === null) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

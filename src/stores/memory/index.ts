/**
 * In-memory stores: every port in one process, nothing persisted. For tests, development and
 * single-instance demos; state is lost on restart.
 *
 * @example
 *   import { createMemoryStores } from 'gatehouse/stores/memory';
 *   const stores = createMemoryStores();
 */
import type { ChangeFeed, Stores } from '../../ports.js';
import { createMemoryAuditLog } from './audit.js';
import { createLocalFeed } from './feed.js';
import { createMemoryChallengeStore, createMemoryPasskeyStore, createMemoryRecoveryCodeStore, createMemoryTotpStore } from './factors.js';
import { createMemoryIdentityStore } from './identities.js';
import { createMemoryKeyStore } from './keys.js';
import { createMemoryOneTimeStore } from './one-time.js';
import { createMemoryProofStore } from './proofs.js';
import { createMemoryRefreshStore } from './refresh.js';
import { createMemorySessionStore } from './sessions.js';
import { createMemoryUserStore } from './users.js';

export { createLocalFeed, type LocalFeedOptions } from './feed.js';

export function createMemoryStores(opts: { feed?: ChangeFeed; feedRetentionMs?: number } = {}): Stores {
  const feed = opts.feed ?? createLocalFeed(opts.feedRetentionMs === undefined ? {} : { retentionMs: opts.feedRetentionMs });
  return {
    users: createMemoryUserStore(),
    sessions: createMemorySessionStore(),
    refreshTokens: createMemoryRefreshStore(),
    keys: createMemoryKeyStore(),
    audit: createMemoryAuditLog(),
    oneTimeTokens: createMemoryOneTimeStore(),
    totp: createMemoryTotpStore(),
    recoveryCodes: createMemoryRecoveryCodeStore(),
    passkeys: createMemoryPasskeyStore(),
    challenges: createMemoryChallengeStore(),
    identities: createMemoryIdentityStore(),
    proofs: createMemoryProofStore(),
    feed,
    async ping() {},
    async close() {
      await feed.close();
    },
  };
}

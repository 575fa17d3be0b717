/**
 * The one contract suite every store runs. A store is done when this passes on it.
 *
 *   runStoreContract('sqlite', async () => ({ stores, cleanup }));
 *
 * `factory` is called before every test and must return empty stores (a fresh database, schema or key
 * prefix); `cleanup` closes and removes them. Only the ports present in `stores` are tested, so a
 * store that implements some ports (Redis: sessions, refreshTokens, feed) runs only those.
 */
import { afterEach, beforeEach, describe } from 'node:test';
import type { Stores, UserStore } from '../../src/ports.js';
import { makeUser } from './fixtures.js';
import { adminUsersContract, auditSearchContract, sessionCountContract } from './ports/admin.js';
import { auditContract } from './ports/audit.js';
import { challengesContract, passkeysContract, recoveryCodesContract, totpContract } from './ports/factors.js';
import { feedContract } from './ports/feed.js';
import { identitiesContract } from './ports/identities.js';
import { keysContract } from './ports/keys.js';
import { oneTimeContract } from './ports/one-time.js';
import { proofsContract } from './ports/proofs.js';
import { refreshContract } from './ports/refresh.js';
import { sessionDataContract } from './ports/session-data.js';
import { sessionsContract } from './ports/sessions.js';
import { usersContract } from './ports/users.js';

export interface ContractFixture {
  stores: Partial<Stores>;
  cleanup(): Promise<void>;
}

type Port = 'users' | 'sessions' | 'refreshTokens' | 'keys' | 'audit' | 'oneTimeTokens' | 'totp' | 'recoveryCodes' | 'passkeys' | 'challenges' | 'identities' | 'proofs' | 'feed';
type Get<P extends Port> = () => Stores[P];

const CONTRACTS: { [P in Port]: Array<(get: Get<P>) => void> } = {
  users: [usersContract, adminUsersContract],
  sessions: [sessionsContract, sessionDataContract, sessionCountContract],
  refreshTokens: [refreshContract],
  keys: [keysContract],
  audit: [auditContract, auditSearchContract],
  oneTimeTokens: [oneTimeContract],
  totp: [totpContract],
  recoveryCodes: [recoveryCodesContract],
  passkeys: [passkeysContract],
  challenges: [challengesContract],
  identities: [identitiesContract],
  proofs: [proofsContract],
  feed: [feedContract],
};
const PORTS = Object.keys(CONTRACTS) as Port[];

/**
 * Stores with foreign keys (SQL) need a record's user to exist first. When the fixture has a user
 * store, creating a record that names a user (session, token, second factor, passkey, challenge) first creates that user if missing, so
 * the port contracts stay independent of the users port.
 */
const recordOwner = (args: unknown[]) => (args[0] as { userId: string | null }).userId;
const OWNED: Partial<Record<Port, Record<string, (args: unknown[]) => string | null>>> = {
  sessions: { createSession: recordOwner },
  refreshTokens: { createRefreshToken: recordOwner },
  oneTimeTokens: { createOneTimeToken: recordOwner },
  totp: { putPendingTotp: recordOwner },
  recoveryCodes: { replaceRecoveryCodes: (args) => args[0] as string },
  passkeys: { createPasskey: recordOwner },
  challenges: { createChallenge: recordOwner },
  identities: { createIdentity: recordOwner, putFederatedSession: recordOwner },
};

function withOwner<T extends object>(store: T, methods: Record<string, (args: unknown[]) => string | null>, users: UserStore | undefined): T {
  if (!users) return store;
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const owner = typeof prop === 'string' ? methods[prop] : undefined;
      if (!owner) return value.bind(target);
      return async (...args: unknown[]) => {
        const userId = owner(args);
        if (userId !== null && !(await users.getUserById(userId))) await users.createUser(makeUser({ id: userId }));
        return value.apply(target, args);
      };
    },
  });
}

function registerPort<P extends Port>(port: P, factory: () => Promise<ContractFixture>): void {
  describe(port, () => {
    let fx: ContractFixture | undefined;
    beforeEach(async () => {
      fx = await factory();
    });
    afterEach(async () => {
      await fx?.cleanup();
      fx = undefined;
    });
    const get: Get<P> = () => {
      const store = fx?.stores[port];
      if (!store) throw new Error(`the fixture lost its ${port} store`);
      const methods = OWNED[port];
      return (methods ? withOwner(store, methods, fx?.stores.users) : store) as Stores[P];
    };
    for (const contract of CONTRACTS[port]) contract(get);
  });
}

export function runStoreContract(name: string, factory: () => Promise<ContractFixture>): void {
  describe(`store contract: ${name}`, async () => {
    // Probe once to learn which ports this store implements; tests then get a fresh fixture each.
    const probe = await factory();
    const present = PORTS.filter((p) => probe.stores[p] !== undefined);
    await probe.cleanup();
    if (present.length === 0) throw new Error(`${name}: the fixture implements no port`);
    for (const port of present) registerPort(port, factory);
  });
}

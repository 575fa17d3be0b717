import type { KeyRecord, KeyStore } from '../../ports.js';
import { clone } from './copy.js';

export function createMemoryKeyStore(): KeyStore {
  const keys = new Map<string, KeyRecord>();
  return {
    async listKeys() {
      return [...keys.values()].sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1)).map(clone);
    },
    async addKey(key) {
      keys.set(key.kid, clone(key));
    },
    async retireKey(kid, retiredAt, verifyUntil) {
      const k = keys.get(kid);
      if (!k) return false;
      k.retiredAt = retiredAt;
      k.verifyUntil = verifyUntil;
      return true;
    },
    async deleteKey(kid) {
      return keys.delete(kid);
    },
  };
}

/**
 * Recovery codes: ten single-use codes of 80 random bits (`XXXX-XXXX-XXXX-XXXX`, base32), shown
 * once and kept as SHA-256 hashes — at 80 bits a leaked table cannot be searched, so no slow hash is
 * needed. A new set voids the old one.
 */
import { encodeBase32NoPadding } from '@oslojs/encoding';
import type { Clock, Random, RecoveryCodeStore } from '../../ports.js';
import { sha256 } from '../crypto.js';

export const RECOVERY_CODE_COUNT = 10;
const NORMALIZED = /^[A-Z2-7]{16}$/;

/** Upper case without separators, or null when it cannot be a code. */
function normalize(input: string): string | null {
  if (input.length > 64) return null;
  const s = input.replace(/[\s-]/g, '').toUpperCase();
  return NORMALIZED.test(s) ? s : null;
}

export class RecoveryCodes {
  constructor(
    private readonly store: RecoveryCodeStore,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** A new set for the user (the old one is void). Resolves the codes, to be shown once. */
  async generate(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => encodeBase32NoPadding(this.random.bytes(10)));
    await this.store.replaceRecoveryCodes(userId, codes.map((c) => sha256(c)), this.clock.now());
    return codes.map((c) => c.match(/.{4}/g)!.join('-'));
  }

  /** Spends a code; false when it is not one of the user's unused codes. */
  async use(userId: string, input: string): Promise<boolean> {
    const code = normalize(input);
    return code !== null && (await this.store.useRecoveryCode(userId, sha256(code), this.clock.now()));
  }

  count(userId: string): Promise<number> {
    return this.store.countRecoveryCodes(userId);
  }

  remove(userId: string): Promise<number> {
    return this.store.deleteRecoveryCodes(userId);
  }
}

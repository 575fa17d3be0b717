/**
 * The password way in: proves who the user is from an email and a password (argon2id), and proves
 * the signed-in user's own password again for step-up and sensitive changes.
 *
 * Every failure takes about as long as a wrong password: an unknown email still runs a verification
 * against a reference hash, so response time does not tell which addresses have accounts. A hash made
 * with older parameters is replaced after a successful check, by compare-and-set, so a password changed
 * in the meantime is never overwritten with the old one.
 */
import { isGatehouseError } from '../../errors.js';
import type { UserRecord } from '../../ports.js';
import { normalizeEmail } from '../email.js';
import { MAX_PASSWORD_BYTES } from '../password-policy.js';
import type { PasswordHasher } from '../passwords.js';
import type { UserDirectory } from '../users.js';
import type { Proof } from './proof.js';

/**
 * The stored password hash of an account that has none (signed up through an identity provider): no
 * password verifies against it, and it is never rehashed. A password is added by a reset link.
 */
export const NO_PASSWORD = '';

export const hasPassword = (user: Pick<UserRecord, 'passwordHash'>): boolean => user.passwordHash !== NO_PASSWORD;

export type PasswordFailure = 'unknown_email' | 'bad_password' | 'disabled' | 'bad_input';

export type PasswordResult = { ok: true; proof: Proof } | { ok: false; reason: PasswordFailure; userId?: string };

const proofOf = (user: UserRecord): Proof => ({ user, amr: ['pwd'], acr: 'aal1' });

export class PasswordMethod {
  constructor(
    private readonly users: UserDirectory,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Checks an email and password (sign-in). */
  async verify(emailInput: string, passwordInput: string): Promise<PasswordResult> {
    const email = normalizeEmail(emailInput);
    const password = Buffer.byteLength(passwordInput, 'utf8') <= MAX_PASSWORD_BYTES ? passwordInput.normalize('NFKC') : null;
    const user = email ? await this.users.byEmail(email.canonical) : null;
    if (!user || password === null) {
      await this.hasher.dummyVerify(password ?? 'x'.repeat(16));
      return { ok: false, reason: email && password !== null ? 'unknown_email' : 'bad_input' };
    }
    if (!hasPassword(user)) {
      // As slow as a wrong password: the answer does not tell that the account has none.
      await this.hasher.dummyVerify(password);
      return { ok: false, reason: 'bad_password', userId: user.id };
    }
    if (!(await this.hasher.verify(user.passwordHash, password))) return { ok: false, reason: 'bad_password', userId: user.id };
    if (user.disabledAt !== null) return { ok: false, reason: 'disabled', userId: user.id };
    await this.upgrade(user, password);
    return { ok: true, proof: proofOf(user) };
  }

  /** Checks the password of a known user (step-up, password and email changes). Null when wrong or gone. */
  async verifyUser(userId: string, passwordInput: string): Promise<Proof | null> {
    const user = await this.users.record(userId);
    if (!user || user.disabledAt !== null || Buffer.byteLength(passwordInput, 'utf8') > MAX_PASSWORD_BYTES) return null;
    const password = passwordInput.normalize('NFKC');
    if (!hasPassword(user)) {
      await this.hasher.dummyVerify(password);
      return null;
    }
    if (!(await this.hasher.verify(user.passwordHash, password))) return null;
    await this.upgrade(user, password);
    return proofOf(user);
  }

  private async upgrade(user: UserRecord, password: string): Promise<void> {
    if (!this.hasher.needsRehash(user.passwordHash)) return;
    let hash: string;
    try {
      hash = await this.hasher.hash(password);
    } catch (e) {
      // The password was verified: a hashing pool too busy to rehash now does not fail the sign-in;
      // the next one rehashes.
      if (isGatehouseError(e) && e.code === 'password_hashing_busy') return;
      throw e;
    }
    await this.users.rehash(user.id, user.passwordHash, hash);
  }
}

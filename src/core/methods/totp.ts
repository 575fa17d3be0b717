/**
 * The TOTP way in (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of drift either way),
 * on @oslojs/otp. The shared secret is sealed at rest with GATEHOUSE_SECRET when it is set, like the
 * signing keys. A code is accepted once: the store records the last accepted step per user and
 * refuses that step and every earlier one, atomically, so a code replayed inside its window — or
 * raced in parallel — is refused.
 */
import { decodeBase32IgnorePadding, encodeBase32NoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, verifyHOTP } from '@oslojs/otp';
import type { Clock, Random, TotpStore } from '../../ports.js';
import { seal, unseal } from '../seal.js';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
const SEAL_INFO = 'gatehouse/totp-secret/v1';
const CODE_RE = /^\d{6}$/;

export interface TotpEnrolment {
  /** The shared secret, base32 (to type into an app by hand). */
  secret: string;
  /** The otpauth:// URI an app reads from the QR code. */
  uri: string;
}

export class TotpMethod {
  constructor(
    private readonly store: TotpStore,
    private readonly sealSecret: string | null,
    private readonly issuer: string,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** A new pending authenticator; null when a confirmed one exists. */
  async begin(userId: string, accountName: string): Promise<TotpEnrolment | null> {
    const key = this.random.bytes(20);
    const secret = encodeBase32NoPadding(key);
    const stored = this.sealSecret ? seal(this.sealSecret, secret, this.random, SEAL_INFO) : secret;
    const ok = await this.store.putPendingTotp({ userId, secret: stored, encrypted: this.sealSecret !== null, createdAt: this.clock.now(), confirmedAt: null, lastStep: null });
    if (!ok) return null;
    return { secret, uri: createTOTPKeyURI(this.issuer, accountName, key, TOTP_PERIOD_S, TOTP_DIGITS) };
  }

  /** Confirms the pending authenticator with a first code. False when none is pending or the code is wrong. */
  async confirm(userId: string, code: string): Promise<boolean> {
    const rec = await this.store.getTotp(userId);
    if (!rec || rec.confirmedAt !== null) return false;
    const step = this.match(rec.secret, rec.encrypted, code);
    return step !== null && (await this.store.confirmTotp(userId, this.clock.now(), step));
  }

  /** Checks a code of the confirmed authenticator and spends its step. */
  async verify(userId: string, code: string): Promise<boolean> {
    const rec = await this.store.getTotp(userId);
    if (!rec || rec.confirmedAt === null) return false;
    const step = this.match(rec.secret, rec.encrypted, code);
    if (step === null || (rec.lastStep !== null && step <= rec.lastStep)) return false;
    return this.store.useTotpStep(userId, step);
  }

  async enrolled(userId: string): Promise<boolean> {
    const rec = await this.store.getTotp(userId);
    return rec !== null && rec.confirmedAt !== null;
  }

  remove(userId: string): Promise<boolean> {
    return this.store.deleteTotp(userId);
  }

  /** The time step the code belongs to (now, or one step either side), or null. */
  private match(stored: string, encrypted: boolean, input: string): number | null {
    const code = input.replace(/\s+/g, '');
    if (!CODE_RE.test(code)) return null;
    if (encrypted && !this.sealSecret) throw new Error('a TOTP secret is sealed but GATEHOUSE_SECRET is not set');
    const key = decodeBase32IgnorePadding(encrypted ? unseal(this.sealSecret!, stored, SEAL_INFO) : stored);
    const now = Math.floor(this.clock.now() / 1000 / TOTP_PERIOD_S);
    let found: number | null = null;
    // Every candidate is checked (no early exit), so timing does not tell which step matched.
    for (const step of [now - 1, now, now + 1]) {
      if (verifyHOTP(key, BigInt(step), TOTP_DIGITS, code) && found === null) found = step;
    }
    return found;
  }
}

/**
 * The passkey way in (WebAuthn Level 3) on @simplewebauthn/server, which parses and verifies every
 * attestation and assertion (CBOR, COSE, signatures, RP ID hash, origin, flags, counters); nothing of
 * that is written here. This module keeps the credentials, issues single-use challenges bound to
 * their ceremony, and turns a verified assertion into a Proof:
 *
 * - with user verification: `["hwk"|"swk","user"]` at aal2 (a passkey is then two factors in one);
 * - `swk` for a synced (multi-device) credential, `hwk` for one bound to its authenticator.
 *
 * The RP ID and accepted origins come from the public URL (overridable); a response from another
 * origin, for another RP ID, to another ceremony's challenge, of a credential of another user, or
 * whose signature counter went backwards is refused.
 */
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { ChallengePurpose, Clock, PasskeyRecord, PasskeyStore, UserRecord } from '../../ports.js';
import type { Challenges } from '../challenges.js';
import { b64url } from '../crypto.js';
import type { UserDirectory } from '../users.js';
import type { AuthMethod } from './proof.js';

export interface WebAuthnSettings {
  rpId: string;
  rpName: string;
  /** Origins a response may come from (the public URL's, plus configured extras). */
  origins: string[];
}

export const PASSKEY_NAME_MAX = 64;
const MAX_PASSKEYS = 20;
const TIMEOUT_MS = 5 * 60_000;

type Ceremony = Exclude<ChallengePurpose, 'mfa' | 'webauthn.register'>;

export type PasskeyFailure = 'bad_input' | 'invalid_challenge' | 'unknown_credential' | 'wrong_user' | 'not_verified' | 'counter' | 'disabled';

export type AssertionResult = { ok: true; user: UserRecord; passkey: PasskeyRecord; amr: AuthMethod[] } | { ok: false; reason: PasskeyFailure; userId?: string };

export type RegistrationResult = { ok: true; passkey: PasskeyRecord } | { ok: false; reason: 'bad_input' | 'invalid_challenge' | 'not_verified' | 'exists' | 'too_many' };

/** The WebAuthn user handle of a user: the bytes of the user id (opaque and random; no personal data). */
const userHandle = (userId: string) => new TextEncoder().encode(userId);

const challengeBytes = (challenge: string) => new Uint8Array(Buffer.from(challenge, 'base64url'));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The challenge a response's clientDataJSON names (the library verifies the rest), or null. */
function challengeOf(response: unknown): string | null {
  if (!isObject(response) || !isObject(response.response)) return null;
  const cd = response.response.clientDataJSON;
  if (typeof cd !== 'string' || cd.length > 4096) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cd, 'base64url').toString('utf8')) as unknown;
    return isObject(parsed) && typeof parsed.challenge === 'string' ? parsed.challenge : null;
  } catch {
    return null;
  }
}

function wellFormed(response: unknown, kind: 'create' | 'get'): boolean {
  if (!isObject(response) || typeof response.id !== 'string' || typeof response.rawId !== 'string' || response.type !== 'public-key') return false;
  if (response.id.length === 0 || response.id.length > 1366 || !/^[A-Za-z0-9_-]+$/.test(response.id)) return false;
  const r = response.response;
  if (!isObject(r) || typeof r.clientDataJSON !== 'string') return false;
  return kind === 'create' ? typeof r.attestationObject === 'string' : typeof r.authenticatorData === 'string' && typeof r.signature === 'string';
}

export class PasskeyMethod {
  constructor(
    private readonly store: PasskeyStore,
    private readonly challenges: Challenges,
    private readonly users: UserDirectory,
    private readonly settings: WebAuthnSettings,
    private readonly clock: Clock,
  ) {}

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.store.listPasskeys(userId);
  }

  async has(userId: string): Promise<boolean> {
    return (await this.store.listPasskeys(userId)).length > 0;
  }

  rename(userId: string, id: string, name: string): Promise<boolean> {
    return this.store.renamePasskey(userId, id, name);
  }

  remove(userId: string, id: string): Promise<boolean> {
    return this.store.deletePasskey(userId, id);
  }

  removeAll(userId: string): Promise<number> {
    return this.store.deletePasskeysByUser(userId);
  }

  /** Creation options for a new discoverable credential, with the user's passkeys excluded; the challenge is bound to `sessionId`. */
  async creationOptions(user: { id: string; email: string }, sessionId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.store.listPasskeys(user.id);
    const challenge = await this.challenges.issueWebAuthn('webauthn.register', user.id, sessionId);
    return generateRegistrationOptions({
      rpName: this.settings.rpName,
      rpID: this.settings.rpId,
      userName: user.email,
      userDisplayName: user.email,
      userID: userHandle(user.id),
      // As bytes: the library base64url-encodes them, so the options carry exactly the stored challenge.
      challenge: challengeBytes(challenge),
      timeout: TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  /** Verifies a registration response to a challenge this session asked for, and keeps the credential. */
  async register(userId: string, sessionId: string, response: unknown, name: string): Promise<RegistrationResult> {
    if (!wellFormed(response, 'create')) return { ok: false, reason: 'bad_input' };
    const challenge = challengeOf(response);
    const rec = challenge ? await this.challenges.takeWebAuthn(challenge, 'webauthn.register', sessionId) : null;
    if (!challenge || !rec || rec.userId !== userId) return { ok: false, reason: 'invalid_challenge' };
    let info;
    try {
      const v = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.settings.origins,
        expectedRPID: this.settings.rpId,
        requireUserVerification: true,
      });
      if (!v.verified) return { ok: false, reason: 'not_verified' };
      info = v.registrationInfo;
    } catch {
      return { ok: false, reason: 'not_verified' };
    }
    if ((await this.store.listPasskeys(userId)).length >= MAX_PASSKEYS) return { ok: false, reason: 'too_many' };
    const passkey: PasskeyRecord = {
      id: info.credential.id,
      userId,
      userHandle: b64url(userHandle(userId)),
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: (info.credential.transports ?? []).slice(0, 8),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: name || 'Passkey',
      createdAt: this.clock.now(),
      lastUsedAt: null,
    };
    if (!(await this.store.createPasskey(passkey))) return { ok: false, reason: 'exists' };
    return { ok: true, passkey };
  }

  /**
   * Request options for a ceremony. With a user, only their passkeys are allowed (step-up, second
   * factor); without, any discoverable credential may answer (passwordless sign-in).
   */
  async requestOptions(ceremony: Ceremony, userId: string | null, binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const allow = userId ? await this.store.listPasskeys(userId) : [];
    const challenge = await this.challenges.issueWebAuthn(ceremony, userId, binding);
    return generateAuthenticationOptions({
      rpID: this.settings.rpId,
      challenge: challengeBytes(challenge),
      timeout: TIMEOUT_MS,
      userVerification: ceremony === 'webauthn.login' ? 'required' : 'preferred',
      allowCredentials: allow.map((p) => ({ id: p.id, transports: p.transports as never })),
    });
  }

  /**
   * Verifies an assertion for a ceremony. `userId` (step-up, second factor) requires the credential to
   * be that user's; without it (passwordless) the credential names the user and user verification is
   * required.
   */
  async verify(response: unknown, ceremony: Ceremony, binding: string, userId: string | null): Promise<AssertionResult> {
    if (!wellFormed(response, 'get')) return { ok: false, reason: 'bad_input' };
    const challenge = challengeOf(response);
    const rec = challenge ? await this.challenges.takeWebAuthn(challenge, ceremony, binding) : null;
    if (!challenge || !rec || rec.userId !== userId) return { ok: false, reason: 'invalid_challenge', ...(userId ? { userId } : {}) };
    const r = response as AuthenticationResponseJSON;
    const passkey = await this.store.getPasskey(r.id);
    if (!passkey) return { ok: false, reason: 'unknown_credential', ...(userId ? { userId } : {}) };
    if (userId !== null && passkey.userId !== userId) return { ok: false, reason: 'wrong_user', userId };
    const handle = r.response.userHandle;
    if (typeof handle === 'string' && handle !== passkey.userHandle) return { ok: false, reason: 'wrong_user', userId: passkey.userId };
    const requireUV = ceremony === 'webauthn.login';
    let info;
    try {
      const v = await verifyAuthenticationResponse({
        response: r,
        expectedChallenge: challenge,
        expectedOrigin: this.settings.origins,
        expectedRPID: this.settings.rpId,
        credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: passkey.counter, transports: passkey.transports },
        requireUserVerification: requireUV,
      });
      if (!v.verified) return { ok: false, reason: 'not_verified', userId: passkey.userId };
      info = v.authenticationInfo;
    } catch (e) {
      // The library refuses a counter that did not move forward (a cloned authenticator) by throwing.
      const counter = e instanceof Error && /counter/i.test(e.message);
      return { ok: false, reason: counter ? 'counter' : 'not_verified', userId: passkey.userId };
    }
    // Compare-and-set on the counter: two parallel uses of one signature cannot both pass.
    if (!(await this.store.recordPasskeyUse(passkey.id, passkey.counter, info.newCounter, this.clock.now()))) {
      return { ok: false, reason: 'counter', userId: passkey.userId };
    }
    const user = await this.users.record(passkey.userId);
    if (!user) return { ok: false, reason: 'unknown_credential' };
    if (user.disabledAt !== null) return { ok: false, reason: 'disabled', userId: user.id };
    const amr: AuthMethod[] = [info.credentialDeviceType === 'multiDevice' ? 'swk' : 'hwk'];
    if (info.userVerified) amr.push('user');
    return { ok: true, user, passkey: { ...passkey, counter: info.newCounter }, amr };
  }
}

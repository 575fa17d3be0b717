/**
 * A software WebAuthn authenticator for HTTP tests (browser tests use Chromium's virtual one): ES256
 * credentials, `none` attestation, discoverable credentials with a user handle, a signature counter,
 * and knobs to misbehave (another origin or RP ID, no user verification, a counter that goes back).
 * CBOR comes from the verification library's own encoder; the signatures from node:crypto.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';

const b64u = (b: Uint8Array | Buffer | string) => Buffer.from(b as Uint8Array).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface SoftCredential {
  id: Buffer;
  key: KeyObject;
  userHandle: string;
  rpId: string;
  counter: number;
}

export interface CeremonyTweaks {
  origin?: string;
  rpId?: string;
  /** User verification flag (default true). */
  uv?: boolean;
  /** Answer this challenge instead of the one in the options. */
  challenge?: string;
  /** Use this credential (by id) instead of choosing one. */
  credentialId?: string;
  /** Report this signature counter instead of the next one. */
  counter?: number;
  /** clientData type (default webauthn.create / webauthn.get). */
  type?: string;
}

export class SoftAuthenticator {
  readonly credentials = new Map<string, SoftCredential>();
  constructor(readonly origin: string) {}

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter >>> 0);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), c, attested ?? Buffer.alloc(0)]);
  }

  /** navigator.credentials.create(), as PublicKeyCredential.toJSON() would send it. */
  create(options: any, t: CeremonyTweaks = {}): any {
    const rpId: string = t.rpId ?? options.rp.id;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    const id = randomBytes(32);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.alloc(16), len, id, Buffer.from(cose)]);
    const flags = 0x01 | (t.uv === false ? 0 : 0x04) | 0x40;
    const authData = this.authData(rpId, flags, 0, attested);
    const attestationObject = isoCBOR.encode(
      new Map<string, any>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    const clientDataJSON = JSON.stringify({ type: t.type ?? 'webauthn.create', challenge: t.challenge ?? options.challenge, origin: t.origin ?? this.origin, crossOrigin: false });
    this.credentials.set(b64u(id), { id, key: privateKey, userHandle: options.user.id, rpId, counter: 0 });
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal'] },
    };
  }

  /** navigator.credentials.get(): a credential allowed by the options (or any discoverable one). */
  get(options: any, t: CeremonyTweaks = {}): any {
    const allowed: string[] = (options.allowCredentials ?? []).map((c: any) => c.id);
    const id = t.credentialId ?? [...this.credentials.keys()].find((k) => allowed.length === 0 || allowed.includes(k));
    const cred = id ? this.credentials.get(id) : undefined;
    if (!cred) throw new Error('the soft authenticator has no credential for these options');
    cred.counter = t.counter ?? cred.counter + 1;
    const flags = 0x01 | (t.uv === false ? 0 : 0x04);
    const authData = this.authData(t.rpId ?? options.rpId ?? cred.rpId, flags, cred.counter);
    const clientDataJSON = JSON.stringify({ type: t.type ?? 'webauthn.get', challenge: t.challenge ?? options.challenge, origin: t.origin ?? this.origin, crossOrigin: false });
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), cred.key);
    return {
      id: b64u(cred.id),
      rawId: b64u(cred.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(signature), userHandle: cred.userHandle },
    };
  }
}

/** The RFC 6238 code of a base32 secret at `ms` (SHA-1, 6 digits, 30 s), or of the step `offset` steps away. */
export function totpCode(secret: string, ms: number, offset = 0): string {
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(Math.floor(ms / 30_000) + offset), 6);
}

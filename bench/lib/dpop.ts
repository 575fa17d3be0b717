/**
 * DPoP for the benchmark: a setup that logs in with a proof (the session and its tokens are then
 * bound to a throwaway ES256 key), and the proofs the load generator sends, one per request. Proofs
 * are single-use (the server remembers every `jti`), so they are made ahead of each phase: at least
 * as many as the phase can send.
 */
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import type { Step } from './setup.js';
import type { Credential, DpopLoad, VariantContext } from './types.js';

/** Registers (ignoring a taken address), then logs in in token mode with a DPoP proof naming `publicUrl`. */
export function dpopLogin(register: Step, login: Step, publicUrl: string, measuredPath: string) {
  return async (ctx: VariantContext): Promise<Credential> => {
    const reg = await fetch(ctx.baseUrl + register.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(register.body), signal: AbortSignal.timeout(10_000) });
    await reg.arrayBuffer();
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const proof = await new SignJWT({ htm: 'POST', htu: `${publicUrl}${login.path}`, iat: Math.floor(Date.now() / 1000), jti: randomBytes(16).toString('base64url') })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
      .sign(privateKey);
    const res = await fetch(ctx.baseUrl + login.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', dpop: proof, ...login.headers },
      body: JSON.stringify(login.body),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { access_token?: string; token_type?: string };
    if (!res.ok || body.token_type !== 'DPoP' || typeof body.access_token !== 'string') throw new Error(`${ctx.name}: the DPoP login answered ${res.status} ${body.token_type ?? ''}`);
    const dpop: DpopLoad = { privateJwk: await exportJWK(privateKey), publicJwk, accessToken: body.access_token, htm: 'GET', htu: `${publicUrl}${measuredPath}` };
    return { headers: { authorization: `DPoP ${body.access_token}` }, dpop };
  };
}

/** `n` fresh proofs for the load's request, signed concurrently (WebCrypto spreads them over its threads). */
export async function makeProofs(d: DpopLoad, n: number): Promise<string[]> {
  const key = (await importJWK(d.privateJwk, 'ES256')) as CryptoKey;
  const ath = createHash('sha256').update(d.accessToken).digest('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  const BATCH = 2000;
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, n - i) }, () =>
      new SignJWT({ htm: d.htm, htu: d.htu, iat, jti: randomBytes(12).toString('base64url'), ath }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: d.publicJwk }).sign(key),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

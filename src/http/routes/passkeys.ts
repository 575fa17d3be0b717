/** Passkeys: registration, the user's list (rename, remove), and passwordless sign-in. */
import { tokenRequestProof } from '../dpop.js';
import { GatehouseError } from '../../errors.js';
import { PASSKEY_NAME_MAX } from '../../core/methods/passkey.js';
import { parseJsonBody, type JsonObject } from '../body.js';
import { optionalEnum, optionalString, requiredString } from '../input.js';
import { clientIp, requestMeta } from '../meta.js';
import { sendJson, sendNoContent, sendProblem } from '../problem.js';
import type { Router } from '../router.js';
import { passkeyJson, type RouteContext } from './kit.js';
import { loginResponder } from './login-response.js';
import { webauthnField } from './second-factor.js';

const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1366}$/;

/** A display name: trimmed, no control characters, at most 64 characters. */
function nameField(body: JsonObject, required: boolean): string {
  const raw = required ? requiredString(body, 'name', 256) : optionalString(body, 'name', 256);
  const name = (raw ?? '').normalize('NFC').trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name) || [...name].length > PASSKEY_NAME_MAX || (required && name.length === 0)) {
    throw new GatehouseError('invalid_field', 'name', { field: 'name', detail: `"name" must be 1 to ${PASSKEY_NAME_MAX} characters without control characters.` });
  }
  return name;
}

export function passkeyRoutes(router: Router, ctx: RouteContext): void {
  const { core, trust, rateLimits } = ctx;
  const { sendStarted } = loginResponder(ctx);
  const idParam = (raw: string | undefined) => {
    const id = String(raw ?? '');
    if (!CREDENTIAL_ID.test(id)) throw new GatehouseError('not_found', 'no such passkey');
    return id;
  };

  router.add({
    method: 'POST',
    path: '/passkeys/register/options',
    auth: true,
    handler: async ({ req, res, auth }) => {
      await parseJsonBody(req);
      sendJson(res, 200, await core.factors.passkeyOptions(auth));
    },
  });

  router.add({
    method: 'POST',
    path: '/passkeys/register',
    auth: true,
    handler: async ({ req, res, auth }) => {
      const body = await parseJsonBody(req);
      const response = webauthnField(body, 'response');
      const name = nameField(body, false);
      const p = await core.factors.addPasskey(auth, response, name, requestMeta(req, trust));
      sendJson(res, 201, { passkey: passkeyJson(p) });
    },
  });

  router.add({
    method: 'GET',
    path: '/passkeys',
    auth: true,
    handler: async ({ res, auth }) => {
      sendJson(res, 200, { passkeys: (await core.factors.listPasskeys(auth)).map(passkeyJson) });
    },
  });

  router.add({
    method: 'PATCH',
    path: '/passkeys/:id',
    auth: true,
    handler: async ({ req, res, auth, params }) => {
      const id = idParam(params.id);
      const body = await parseJsonBody(req);
      await core.factors.renamePasskey(auth, id, nameField(body, true), requestMeta(req, trust));
      sendNoContent(res);
    },
  });

  router.add({
    method: 'DELETE',
    path: '/passkeys/:id',
    auth: true,
    handler: async ({ req, res, auth, params }) => {
      await core.factors.removePasskey(auth, idParam(params.id), requestMeta(req, trust));
      sendNoContent(res);
    },
  });

  router.add({
    method: 'POST',
    path: '/passkeys/login/options',
    handler: async ({ req, res }) => {
      await parseJsonBody(req);
      // Each call stores a challenge: on the per-IP request budget of the credential routes.
      await rateLimits.admit(clientIp(req, trust), null);
      sendJson(res, 200, await core.signIn.passkeyOptions());
    },
  });

  router.add({
    method: 'POST',
    path: '/passkeys/login',
    handler: async ({ req, res }) => {
      const body = await parseJsonBody(req);
      const response = webauthnField(body, 'response');
      const mode = optionalEnum(body, 'mode', ['session', 'token'] as const) ?? 'session';
      const transport = optionalEnum(body, 'refresh_transport', ['body', 'cookie'] as const) ?? 'body';
      const jkt = mode === 'token' && core.config.dpop.mode !== 'off' ? await tokenRequestProof(req, res, core) : null;
      if (jkt === false) return;
      const attempt = await rateLimits.admit(clientIp(req, trust), null);
      const out = await core.signIn.passkey(response, mode, requestMeta(req, trust), jkt === null ? {} : { dpopJkt: jkt });
      if (!out.ok) {
        await attempt.failed();
        return sendProblem(res, 'invalid_webauthn');
      }
      await attempt.succeeded();
      sendStarted(res, out, transport);
    },
  });
}

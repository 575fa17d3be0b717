/**
 * Identity providers in the configuration: any OpenID Connect issuer found by discovery, presets for
 * Google, Microsoft Entra ID, GitLab and GitHub, and plain OAuth 2.0 providers (no ID token) through
 * explicit endpoints and a claims mapping. Validated at start with the configuration; a bad value is
 * named by its path (`GATEHOUSE_OIDC_PROVIDERS (oidc.providers.0.issuer)`), never echoed.
 */
import { z } from 'zod';

export const OIDC_PRESETS = ['google', 'microsoft', 'gitlab', 'github'] as const;
export type OidcPreset = (typeof OIDC_PRESETS)[number];

/** Where a user's id, email, email-verified flag and name are read from (dot paths into the claims or userinfo JSON). */
export interface ClaimsMapping {
  id: string;
  email: string;
  /** null: the provider never says an address is verified (so none is taken). */
  emailVerified: string | null;
  name: string;
}

/** A provider as the core uses it: the preset applied, the protocol settled. */
export type ProviderConfig = {
  id: string;
  name: string;
  clientId: string;
  /** null: a public client (PKCE alone, `token_endpoint_auth_method=none`). */
  clientSecret: string | null;
  scopes: string[];
  /** Whether a new identity may create a user (sign-up through this provider). */
  signUp: boolean;
  /** Plain http:// endpoints allowed (a provider on this machine in development and tests only). */
  unsafeAllowHttp: boolean;
  claims: ClaimsMapping;
} & (
  | { protocol: 'oidc'; issuer: string }
  | { protocol: 'oauth2'; authorizationEndpoint: string; tokenEndpoint: string; userinfoEndpoint: string; emailsEndpoint: string | null }
);

const OIDC_CLAIMS: ClaimsMapping = { id: 'sub', email: 'email', emailVerified: 'email_verified', name: 'name' };

const PRESETS: Record<OidcPreset, { name: string; issuer?: (tenant: string | null) => string; oauth2?: { authorizationEndpoint: string; tokenEndpoint: string; userinfoEndpoint: string; emailsEndpoint: string }; scopes: string[]; claims: ClaimsMapping }> = {
  google: { name: 'Google', issuer: () => 'https://accounts.google.com', scopes: ['openid', 'email', 'profile'], claims: OIDC_CLAIMS },
  microsoft: { name: 'Microsoft', issuer: (t) => `https://login.microsoftonline.com/${t ?? ''}/v2.0`, scopes: ['openid', 'email', 'profile'], claims: OIDC_CLAIMS },
  gitlab: { name: 'GitLab', issuer: () => 'https://gitlab.com', scopes: ['openid', 'email', 'profile'], claims: OIDC_CLAIMS },
  github: {
    name: 'GitHub',
    oauth2: {
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userinfoEndpoint: 'https://api.github.com/user',
      // /user gives the public address only; /user/emails says which addresses are verified.
      emailsEndpoint: 'https://api.github.com/user/emails',
    },
    scopes: ['read:user', 'user:email'],
    claims: { id: 'id', email: 'email', emailVerified: null, name: 'name' },
  },
};

const PATH = z.string().regex(/^[A-Za-z0-9_:$-]+(\.[A-Za-z0-9_:$-]+)*$/, 'must be a dot path such as email or data.user.id');
const url = z.string().max(2048).refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL');

const providerInput = z
  .object({
    /** Used in the routes (`/auth/oidc/<id>/start`) and stored with each linked identity: do not rename a provider in use. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1 to 32 lower-case letters, digits or dashes'),
    preset: z.enum(OIDC_PRESETS).optional(),
    /** Shown on the "Continue with …" button. */
    name: z.string().min(1).max(64).optional(),
    issuer: url.optional(),
    /** Microsoft Entra ID: the directory (tenant) id or a verified domain. */
    tenant: z.string().regex(/^[A-Za-z0-9.-]{1,128}$/, 'must be a tenant id or domain').optional(),
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(4096).nullable().optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'must be scope tokens')).max(32).optional(),
    signUp: z.boolean().default(false),
    authorizationEndpoint: url.optional(),
    tokenEndpoint: url.optional(),
    userinfoEndpoint: url.optional(),
    emailsEndpoint: url.optional(),
    claims: z.object({ id: PATH.optional(), email: PATH.optional(), emailVerified: PATH.nullable().optional(), name: PATH.optional() }).strict().optional(),
    unsafeAllowHttp: z.boolean().default(false),
  })
  .strict();

type ProviderInput = z.output<typeof providerInput>;

function settle(p: ProviderInput, ctx: z.RefinementCtx): ProviderConfig | typeof z.NEVER {
  const issue = (path: string, message: string) => {
    ctx.addIssue({ code: 'custom', path: [path], message });
    return z.NEVER;
  };
  const preset = p.preset ? PRESETS[p.preset] : null;
  if (p.preset === 'microsoft') {
    if (!p.tenant) return issue('tenant', 'the microsoft preset needs the directory (tenant) id or domain');
    // Multi-tenant endpoints sign ID tokens with each tenant's own issuer, which one configured issuer cannot check.
    if (/^(common|organizations|consumers)$/i.test(p.tenant)) return issue('tenant', `"${p.tenant}" is a multi-tenant endpoint; name one directory (tenant id or domain)`);
  }
  const explicit = p.authorizationEndpoint !== undefined || p.tokenEndpoint !== undefined || p.userinfoEndpoint !== undefined;
  const oauth2 = preset?.oauth2 ?? (explicit ? { authorizationEndpoint: p.authorizationEndpoint, tokenEndpoint: p.tokenEndpoint, userinfoEndpoint: p.userinfoEndpoint, emailsEndpoint: p.emailsEndpoint } : null);
  const issuer = p.issuer ?? preset?.issuer?.(p.tenant ?? null);
  const mapping: ClaimsMapping = { ...(preset?.claims ?? OIDC_CLAIMS), ...Object.fromEntries(Object.entries(p.claims ?? {}).filter(([, v]) => v !== undefined)) };
  const common = {
    id: p.id,
    name: p.name ?? preset?.name ?? p.id,
    clientId: p.clientId,
    clientSecret: p.clientSecret ?? null,
    scopes: p.scopes ?? preset?.scopes ?? (oauth2 ? [] : ['openid', 'email', 'profile']),
    signUp: p.signUp,
    unsafeAllowHttp: p.unsafeAllowHttp,
    claims: mapping,
  };
  const secure = (path: string, v: string) => p.unsafeAllowHttp || v.startsWith('https://') || issue(path, 'must be an https URL (unsafeAllowHttp allows http for a provider on this machine in development)');
  if (oauth2 && !p.issuer) {
    const a = p.authorizationEndpoint ?? oauth2.authorizationEndpoint;
    const t = p.tokenEndpoint ?? oauth2.tokenEndpoint;
    const u = p.userinfoEndpoint ?? oauth2.userinfoEndpoint;
    if (!a) return issue('authorizationEndpoint', 'a plain OAuth 2.0 provider needs authorizationEndpoint, tokenEndpoint and userinfoEndpoint');
    if (!t) return issue('tokenEndpoint', 'a plain OAuth 2.0 provider needs authorizationEndpoint, tokenEndpoint and userinfoEndpoint');
    if (!u) return issue('userinfoEndpoint', 'a plain OAuth 2.0 provider needs authorizationEndpoint, tokenEndpoint and userinfoEndpoint');
    const e = p.emailsEndpoint ?? oauth2.emailsEndpoint ?? null;
    for (const [k, v] of [['authorizationEndpoint', a], ['tokenEndpoint', t], ['userinfoEndpoint', u], ['emailsEndpoint', e]] as const) if (v && secure(k, v) === z.NEVER) return z.NEVER;
    if (!p.claims?.id && !preset) return issue('claims', 'a plain OAuth 2.0 provider needs claims.id (where the user id is in the userinfo response)');
    return { ...common, protocol: 'oauth2', authorizationEndpoint: a, tokenEndpoint: t, userinfoEndpoint: u, emailsEndpoint: e };
  }
  if (!issuer) return issue('issuer', 'needs an issuer (OpenID Connect discovery), a preset, or the endpoints of a plain OAuth 2.0 provider');
  if (secure('issuer', issuer) === z.NEVER) return z.NEVER;
  if (!common.scopes.includes('openid')) return issue('scopes', 'an OpenID Connect provider needs the openid scope');
  // Kept exactly as given: discovery requires the provider's metadata to name this very issuer.
  return { ...common, protocol: 'oidc', issuer };
}

/** A provider already settled (a resolved configuration passed in again) back in its input form. */
function unsettle(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || !('protocol' in v)) return v;
  const { protocol, ...rest } = v as Record<string, unknown>;
  if (protocol === 'oauth2' && rest.emailsEndpoint === null) delete rest.emailsEndpoint;
  return rest;
}

export const provider = z.preprocess(unsettle, providerInput).transform((p, ctx) => settle(p, ctx));

export const oidcSchema = z
  .object({
    /** The providers users may sign in with. */
    providers: z.array(provider).max(32).default([]),
  })
  .strict()
  .prefault({})
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.providers.forEach((p, i) => {
      if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: ['providers', i, 'id'], message: `provider id "${p.id}" is used twice` });
      seen.add(p.id);
    });
  });

/** The environment variable a provider's client secret may come from: `GATEHOUSE_OIDC_<ID>_CLIENT_SECRET`. */
export const clientSecretVariable = (id: string) => `GATEHOUSE_OIDC_${id.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;

/**
 * `GATEHOUSE_OIDC_PROVIDERS` (a JSON array) as config input; each provider's client secret is taken
 * from `GATEHOUSE_OIDC_<ID>_CLIENT_SECRET` when the JSON does not carry one. A message never quotes the JSON.
 */
export function providersFromEnv(raw: string, env: NodeJS.ProcessEnv, fail: (msg: string) => never): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('GATEHOUSE_OIDC_PROVIDERS: is not valid JSON (expected an array of provider objects)');
  }
  if (!Array.isArray(parsed)) return fail('GATEHOUSE_OIDC_PROVIDERS: must be a JSON array of provider objects');
  return parsed.map((p: unknown) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) return p;
    const o = p as Record<string, unknown>;
    if (o.clientSecret === undefined && typeof o.id === 'string') {
      const secret = env[clientSecretVariable(o.id)];
      if (secret) return { ...o, clientSecret: secret };
    }
    return o;
  });
}

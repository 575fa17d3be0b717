/** The JSON shapes of Gatehouse's HTTP API, as the client sees them (see openapi/openapi.json). */

export type SessionMode = 'session' | 'token';

export interface User {
  id: string;
  email: string;
  created_at: string;
  email_verified: boolean;
}

/** The device key a session is bound to: `dpop` (token mode, RFC 9449), `dbsc` (cookie mode), or null. */
export type Binding = 'dpop' | 'dbsc' | null;

/** How a session was authenticated: RFC 8176 methods, the assurance level and when the user last proved themselves. */
export interface SessionAuth {
  /** e.g. `["pwd"]`, `["pwd","otp","mfa"]`, `["hwk","user"]`. */
  amr: string[];
  acr: 'aal1' | 'aal2';
  auth_time: string;
}

export interface Session extends SessionAuth {
  id: string;
  mode: SessionMode;
  created_at: string;
  expires_at: string;
  idle_expires_at: string;
  amr: string[];
  acr: 'aal1' | 'aal2';
  auth_time: string;
  binding: Binding;
}

/** What `/auth/me` knows about the current session (a bearer request knows only id, mode and expiry). */
export interface CurrentSession extends SessionAuth {
  id: string;
  mode: SessionMode;
  expires_at: string;
  created_at?: string;
  idle_expires_at?: string;
  amr: string[];
  acr: 'aal1' | 'aal2';
  auth_time: string;
  binding: Binding;
}

export interface Me {
  user: User;
  session: CurrentSession;
}

export interface SessionLogin {
  user: User;
  session: Session;
}

export interface TokenGrant {
  access_token: string;
  /** `DPoP` when the tokens are bound to this client's key. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  /** Absent with the cookie transport. */
  refresh_token?: string;
  user: User;
  session: Session;
}

export interface Device extends SessionAuth {
  id: string;
  current: boolean;
  mode: SessionMode;
  device: { browser: string | null; os: string | null; type: string | null };
  ip: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  amr: string[];
  acr: 'aal1' | 'aal2';
  auth_time: string;
  /** Bound to a device key: shown as "bound to this device". */
  binding: Binding;
  /** The identity provider the session was opened through, or null. */
  provider: string | null;
}

export interface SecurityEvent {
  id: string;
  type: string;
  at: string;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, string | number | boolean | null> | null;
}

export interface EventPage {
  events: SecurityEvent[];
  next_cursor: string | null;
}

/** A correct password of a user with a second factor: finish with `completeMfa`. */
export interface MfaRequired {
  mode: 'mfa_required';
  mfaToken: string;
  methods: Array<'totp' | 'webauthn' | 'recovery_code'>;
  expiresIn: number;
  /** Request options for a passkey as the second factor (`PublicKeyCredential.parseRequestOptionsFromJSON`). */
  webauthn: WebAuthnRequestOptions | null;
}

/** `PublicKeyCredentialRequestOptionsJSON`. */
export interface WebAuthnRequestOptions {
  challenge: string;
  rpId: string;
  allowCredentials?: Array<{ id: string; type: 'public-key'; transports?: string[] }>;
  userVerification?: string;
  timeout?: number;
}

/** `PublicKeyCredentialCreationOptionsJSON`. */
export interface WebAuthnCreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: Array<{ type: 'public-key'; alg: number }>;
  excludeCredentials?: Array<{ id: string; type: 'public-key'; transports?: string[] }>;
  authenticatorSelection?: Record<string, unknown>;
  timeout?: number;
  attestation?: string;
}

/** What `PublicKeyCredential.toJSON()` returns; passed through to the server as is. */
export type WebAuthnResponse = Record<string, unknown>;

/** The second factor that finishes a sign-in. */
export type MfaAnswer = { totp: string } | { recovery_code: string } | { webauthn: WebAuthnResponse };

export interface MfaStatus {
  totp: boolean;
  recovery_codes_left: number;
  passkeys: number;
}

export interface TotpEnrolment {
  secret: string;
  /** `otpauth://totp/…` */
  uri: string;
  /** The URI as a QR code: an SVG `data:` URL for an `<img>`. */
  qr_svg: string;
}

export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  transports: string[];
}

/** An identity provider users may sign in with (`GET /auth/oidc/providers`). */
export interface IdentityProvider {
  id: string;
  name: string;
  sign_up: boolean;
  /** Navigate the browser here (with `?mode=…&return_to=/path`) to sign in with it. */
  start_url: string;
}

/** An account at an identity provider linked to the user. */
export interface LinkedIdentity {
  id: string;
  provider: string;
  provider_name: string;
  email: string | null;
  email_verified: boolean;
  created_at: string;
  last_used_at: string | null;
}

export interface Tokens {
  accessToken: string;
  /** Absent with the cookie transport (the browser keeps it in an HttpOnly cookie). */
  refreshToken?: string;
  /** `DPoP`: the tokens are bound to this client's key, and every use carries a proof. Default `Bearer`. */
  tokenType?: 'Bearer' | 'DPoP';
}

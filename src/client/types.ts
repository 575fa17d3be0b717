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

export interface Session {
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
export interface CurrentSession {
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

export interface Device {
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

export interface Tokens {
  accessToken: string;
  /** Absent with the cookie transport (the browser keeps it in an HttpOnly cookie). */
  refreshToken?: string;
  /** `DPoP`: the tokens are bound to this client's key, and every use carries a proof. Default `Bearer`. */
  tokenType?: 'Bearer' | 'DPoP';
}

/** Start-up checks on a validated config: refuse unsafe combinations, warn loudly about test-only ones. */
import type { GatehouseConfig } from '../config.js';
import { checkMailConfig } from '../mail/index.js';

/** Throws on a config that must not serve; returns warnings to log. */
export function checkProductionConfig(config: GatehouseConfig): string[] {
  const warnings: string[] = [];
  const sharedDb = !config.databaseUrl.startsWith('sqlite:') && !config.databaseUrl.startsWith('memory:');
  if (sharedDb && !config.secret) {
    throw new Error('GATEHOUSE_SECRET is required with a shared database: private signing keys are sealed with it');
  }
  checkMailConfig(config);
  if (config.passwordHashing.unsafeAllowWeak) {
    warnings.push('GATEHOUSE_UNSAFE_WEAK_PASSWORD_HASHING is set: password hashes are below OWASP minimums. Never use this in production.');
  }
  if (config.mail.unsafeAllowPlaintext && config.mail.smtpUrl?.startsWith('smtp:')) {
    warnings.push('GATEHOUSE_UNSAFE_SMTP_PLAINTEXT is set: if the SMTP server offers no STARTTLS, its password and every reset and verification link cross the network in clear.');
  }
  if (!config.publicUrl.startsWith('https://') && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(config.publicUrl)) {
    warnings.push(`GATEHOUSE_PUBLIC_URL (${config.publicUrl}) is not https: browsers will not send the Secure session cookie to it.`);
  }
  if (!config.rateLimits.enabled) {
    warnings.push('GATEHOUSE_RATE_LIMITS=off: login, registration, refresh and reauth have NO brute-force limits. Only for load tests on a developer machine; never in production.');
  } else {
    const r = config.rateLimits;
    // Worst case per hour: a full window of attempts, then a block, repeated.
    const perHour = r.accountAttempts * Math.ceil(3_600_000 / Math.max(r.accountWindow, r.accountBlock, 1));
    if (perHour > 100) warnings.push(`GATEHOUSE_RATE_LIMIT_ACCOUNT_*: up to ${perHour} password attempts an hour per account; ASVS allows at most 100.`);
  }
  // A deployment (https) whose admin API answers any address: allowed (administrators only), but said.
  if (config.admin.enabled && config.admin.allowIps.length === 0 && config.publicUrl.startsWith('https://')) {
    warnings.push('The admin API (/admin/api) answers administrators from any address: set GATEHOUSE_ADMIN_ALLOW_IPS, or GATEHOUSE_ADMIN_API=off here and run it on an internal instance (docs/admin.md).');
  }
  if (config.metrics.port !== null && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(config.metrics.host)) {
    warnings.push(`GATEHOUSE_METRICS_HOST=${config.metrics.host}: the metrics port (no token) is reachable from the network; keep it on a private network or firewall it.`);
  }
  if (config.databaseUrl === 'memory:') warnings.push('GATEHOUSE_DATABASE_URL=memory: nothing survives a restart.');
  return warnings;
}

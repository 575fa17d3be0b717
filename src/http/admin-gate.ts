/**
 * The admin API's network allow-list (GATEHOUSE_ADMIN_ALLOW_IPS): a request from any other client
 * address is refused before authentication, so the admin routes cannot even be probed from there.
 * The client address follows the trusted-proxy setting, as everywhere else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyaddr from 'proxy-addr';
import { clientIp, type TrustFn } from './meta.js';
import { sendProblem } from './problem.js';

/** A `before` hook answering 403 outside `allow` (CIDR blocks); null when the list is empty (any address). */
export function adminAllowList(allow: readonly string[], trust: TrustFn): ((req: IncomingMessage, res: ServerResponse) => boolean) | null {
  if (allow.length === 0) return null;
  const allowed = proxyaddr.compile([...allow]);
  return (req, res) => {
    const ip = clientIp(req, trust);
    if (ip !== null && allowed(ip, 0)) return false;
    sendProblem(res, 'forbidden', { detail: 'The admin API does not answer this address (GATEHOUSE_ADMIN_ALLOW_IPS).' });
    return true;
  };
}

// The request header set for a WebSocket upgrade: the same passes as a plain request (hop-by-hop
// fields and the fields named in Connection removed, Proxy-Authorization kept for this hop,
// X-Forwarded-* and x-request-id set; proxy/headers.ts), plus the two hop-by-hop fields the upgrade
// itself needs, Connection: Upgrade and Upgrade (RFC 9110 section 7.8).
import type { IncomingHttpHeaders } from 'node:http';

/** Header object for http-proxy (which sends `req.headers` upstream) from the upstream header list select made. */
export function upgradeRequestHeaders(flat: readonly string[], upgrade: string | undefined): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    const prior = headers[name];
    headers[name] = prior === undefined ? flat[i + 1] : [...(Array.isArray(prior) ? prior : [prior]), flat[i + 1]];
  }
  headers.connection = 'Upgrade';
  headers.upgrade = upgrade ?? 'websocket';
  return headers;
}

// The request header set for a WebSocket upgrade: the same passes as a plain request (hop-by-hop
// fields and the fields named in Connection removed, Proxy-Authorization kept for this hop,
// X-Forwarded-* and x-request-id set; proxy/headers.ts), plus the two hop-by-hop fields the upgrade
// itself needs, Connection: Upgrade and Upgrade (RFC 9110 section 7.8).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { upstreamHeaders } from './headers.js';

/** Header object for http-proxy (which sends `req.headers` upstream), and the request id; undefined: more than one Host field. */
export function upgradeRequestHeaders(req: IncomingMessage): { headers: IncomingHttpHeaders; requestId: string } | undefined {
  const flat: string[] = [];
  const requestId = upstreamHeaders(req, flat);
  if (requestId === undefined) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    const prior = headers[name];
    headers[name] = prior === undefined ? flat[i + 1] : [...(Array.isArray(prior) ? prior : [prior]), flat[i + 1]];
  }
  headers.connection = 'Upgrade';
  headers.upgrade = req.headers.upgrade ?? 'websocket';
  return { headers, requestId };
}

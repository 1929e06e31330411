// Header passes for both directions. Hop-by-hop fields describe one connection and are not
// forwarded (RFC 9110 section 7.6.1): Connection, every field it lists, Proxy-Connection,
// Keep-Alive, TE, Transfer-Encoding and Upgrade; RFC 2616 13.5.1 adds Trailer and the
// Proxy-Authenticate/-Authorization pair, which belong to this hop's proxy, not the origin.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** Request fields cutover rewrites itself (appended or created below). */
const REWRITTEN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'expect']);

/**
 * Fields a Connection header may never remove: Host says which site the request is for, and
 * Content-Length / Transfer-Encoding frame the message itself (RFC 9110 sections 7.2 and 7.6.1,
 * RFC 9112 section 6). Naming them in Connection is a way to smuggle a request past a proxy.
 */
const FRAMING = new Set(['host', 'content-length', 'transfer-encoding']);

/** Field names listed in a Connection header, lower-cased; undefined when there are none. */
function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  // The common values list no field: answer without splitting (this runs on every request).
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  let out: Set<string> | undefined;
  for (const token of joined.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive' && !FRAMING.has(t)) (out ??= new Set()).add(t);
  }
  return out;
}

const append = (prior: string | string[] | undefined, value: string) =>
  prior === undefined ? value : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${value}`;

/**
 * The header list sent upstream, as undici's flat [name, value, ...] array (keeps the client's
 * duplicates and order). Returns the request id it kept or created; undefined when the request
 * carries more than one Host field, which RFC 9112 section 3.2 says to refuse (400): checked in
 * the same pass over the fields, so it costs the request path nothing more.
 */
export function upstreamHeaders(req: IncomingMessage, out: string[]): string | undefined {
  const listed = connectionListed(req.headers.connection);
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'host' && ++hosts > 1) return undefined;
    if (HOP_BY_HOP.has(name) || REWRITTEN.has(name) || listed?.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  const h = req.headers;
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  out.push('x-forwarded-for', append(h['x-forwarded-for'], req.socket.remoteAddress ?? ''));
  out.push('x-forwarded-proto', append(h['x-forwarded-proto'], encrypted ? 'https' : 'http'));
  if (h.host !== undefined) out.push('x-forwarded-host', append(h['x-forwarded-host'], h.host));
  const given = h['x-request-id'];
  const id = typeof given === 'string' && given !== '' && given.length <= 200 ? given : randomUUID();
  out.push('x-request-id', id);
  return id;
}

/** The response header object sent to the client: upstream's minus hop-by-hop fields. */
export function downstreamHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = upstream[name];
  }
  return out;
}

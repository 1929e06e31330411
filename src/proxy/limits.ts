// Limits the data plane puts on what a client may send, and on how long it may take.
import type { IncomingMessage, Server } from 'node:http';

/**
 * The most request header fields forwarded. Node silently drops the fields past its
 * `maxHeadersCount` (2000 raw entries, about 1000 fields); a proxy that forwards a truncated
 * header list changes the request, so past this many fields the request is refused with 431
 * (RFC 6585 section 5) instead. Far above any real client (Apache's default is 100).
 */
export const MAX_REQUEST_HEADERS = 1000;

/** Time to receive a request's header section (slowloris). nginx's client_header_timeout is 60 s. */
export const HEADERS_TIMEOUT_MS = 30_000;
/** Time to receive a whole request, body included (Node's default, written down). */
export const REQUEST_TIMEOUT_MS = 300_000;
/**
 * An idle keep-alive connection is closed after this. Longer than the 60 s idle timeout of
 * common load balancers in front, so that it is the balancer that closes first and never
 * sends a request onto a connection we are closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export function applyServerLimits(server: Server): void {
  // One more than the limit, so that a request past it is seen (and refused) rather than cut.
  server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
}

/** Whether the request carries more header fields than cutover forwards. */
export function tooManyHeaders(req: IncomingMessage): boolean {
  return req.rawHeaders.length > 2 * MAX_REQUEST_HEADERS;
}

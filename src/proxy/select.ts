// The routing steps of every request, plain or upgrade, in one order: maintenance, the request
// target's form, the header count, path normalisation, the route, the override or the split, and
// the upstream header list (with the Host check). Returns a refusal (counted here, once, per route;
// '' when none matched) or the choice the request is forwarded with. No I/O, no closures.
import type { ErrorCode } from '../errors.js';
import type { IncomingMessage } from 'node:http';
import type { BackendName } from '../config/schema.js';
import type { Control } from '../control/control.js';
import { decide } from '../split/decide.js';
import { matchRoute, stickyKey } from '../split/route.js';
import type { ProxyRoute } from './shadow.js';
import type { Series } from '../stats/series.js';
import type { Stats } from '../stats/store.js';
import type { Cluster } from './cluster.js';
import { upstreamHeaders } from './headers.js';
import { MAX_REQUEST_HEADERS, tooManyHeaders } from './limits.js';
import { BAD_PATH, normalizeTarget } from './normalize-path.js';
import { judgeOverride } from './override.js';
import type { RoutingTable } from './table.js';

/** An answer cutover gives itself, without a backend. */
export interface Refusal {
  status: number;
  /** Stable, snake_case. */
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/** Where a request goes and what it is sent with. */
export interface Choice {
  route: ProxyRoute;
  backend: BackendName;
  /** The route's series for the backend (the forced one when an override chose it). */
  series: Series;
  cluster: Cluster;
  /** The normalised request target (path and query) sent upstream. */
  target: string;
  /** The upstream header list, undici's flat [name, value, ...] (proxy/headers.ts). */
  headers: string[];
  requestId: string;
}

/** Reads a field every choice has (a hit, not a miss, on the common path). */
export const isRefusal = (s: Refusal | Choice): s is Refusal => (s as Choice).route === undefined;

const ORIGIN_FORM = 'cutover accepts origin-form request targets only (a path starting with /)';
const TOO_MANY = `more than ${MAX_REQUEST_HEADERS} header fields`;

function refuse(stats: Pick<Stats, 'answer'>, route: string, status: number, code: ErrorCode, message: string, headers?: Record<string, string>): Refusal {
  stats.answer(route, status);
  return headers === undefined ? { status, code, message } : { status, code, message, headers };
}

export function select(req: IncomingMessage, table: RoutingTable, control: Pick<Control, 'maintenance'>, stats: Pick<Stats, 'answer'>): Refusal | Choice {
  const m = control.maintenance;
  if (m.enabled) return refuse(stats, '', 503, 'maintenance', m.message, { 'retry-after': String(m.retryAfterSeconds) });
  const url = req.url ?? '/';
  if (url.charCodeAt(0) !== 47 /* / */ || req.method === 'CONNECT') return refuse(stats, '', 400, 'bad_request_target', ORIGIN_FORM);
  if (tooManyHeaders(req)) return refuse(stats, '', 431, 'too_many_headers', TOO_MANY);
  const target = normalizeTarget(url);
  if (!target) return refuse(stats, '', 400, 'bad_path', BAD_PATH);
  const route = matchRoute(table.routes, req.method ?? 'GET', target.path, req.headers);
  if (!route) return refuse(stats, '', 404, 'no_route', `no route matches ${req.method} ${target.path}`);
  // An allowed override header forces the backend (recorded apart, never judged by the guard).
  const o = table.override;
  const value = o === undefined ? undefined : req.headers[o.header];
  let backend: BackendName;
  let series: Series;
  if (o !== undefined && typeof value === 'string') {
    const r = judgeOverride(o, value, req.socket.remoteAddress);
    if (r === 'invalid') return refuse(stats, route.name, 400, 'bad_override', `header ${o.header} must be legacy or candidate`);
    if (r === 'forbidden') return refuse(stats, route.name, 403, 'override_refused', `header ${o.header} is not allowed from this client or lacks the right token`);
    backend = r;
    series = route.series.forced[r];
  } else {
    backend = decide(route.split, route.name, stickyKey(route, req.headers));
    series = route.series[backend];
  }
  const headers: string[] = [];
  const requestId = upstreamHeaders(req, headers);
  // RFC 9112 section 3.2: a request with more than one Host field gets 400 (before any backend).
  if (requestId === undefined) return refuse(stats, '', 400, 'bad_host', 'the request has more than one Host header');
  return { route, backend, series, cluster: table.clusters[backend], target: target.url, headers, requestId };
}

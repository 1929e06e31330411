// Route matching: first match wins on path prefix, then optional methods and headers.
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/schema.js';
import type { RouteSeries } from '../stats/store.js';
import { cookieValue, type Interleave } from './decide.js';

/** The mutable split of one route: owned by control, read by the proxy on every request. */
export interface RouteSplit {
  percent: number;
  readonly interleave: Interleave;
}

/** The share of a route's requests the shadow copies: owned by control, read by the tap on every request. */
export interface ShadowShare {
  percent: number;
}

export interface CompiledRoute {
  readonly name: string;
  readonly prefix: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]> | undefined;
  readonly stickyHeader: string | undefined;
  readonly stickyCookie: string | undefined;
  readonly split: RouteSplit;
  readonly series: RouteSeries;
}

export function compileRoute(r: RouteConfig, split: RouteSplit, series: RouteSeries): CompiledRoute {
  return {
    name: r.name,
    prefix: r.match.pathPrefix,
    methods: r.match.methods ? new Set(r.match.methods) : undefined,
    headers: r.match.headers ? Object.entries(r.match.headers).map(([k, v]) => [k.toLowerCase(), v] as const) : undefined,
    stickyHeader: r.sticky?.header?.toLowerCase(),
    stickyCookie: r.sticky?.cookie,
    split,
    series,
  };
}

export function matchRoute<R extends CompiledRoute>(routes: readonly R[], method: string, path: string, headers: IncomingHttpHeaders): R | undefined {
  for (const r of routes) {
    if (!path.startsWith(r.prefix)) continue;
    if (r.methods && !r.methods.has(method)) continue;
    if (r.headers && !r.headers.every(([k, v]) => headers[k] === v)) continue;
    return r;
  }
  return undefined;
}

/** The stickiness key of a request, if the route is sticky and the request carries one. */
export function stickyKey(r: CompiledRoute, headers: IncomingHttpHeaders): string | undefined {
  if (r.stickyHeader) {
    const v = headers[r.stickyHeader];
    return typeof v === 'string' && v !== '' ? v : undefined;
  }
  if (r.stickyCookie && headers.cookie) {
    const v = cookieValue(headers.cookie, r.stickyCookie);
    return v === '' ? undefined : v;
  }
  return undefined;
}

// The shadow tap of one route: for a sampled request, a bounded copy goes to a node of the OTHER
// cluster (the one the split did not choose), off the client's path, and once both answers are
// complete they are compared (parity/compare.ts) and counted (parity/figures.ts).
//
// The client never waits for the shadow: the copy is dispatched and forgotten by the request
// path; nothing of the primary's exchange waits on it (not for its connection, its answer or its
// body). The primary's answer is copied as it streams (up to maxBodyBytes), never held back.
// Shadow requests never enter the guard's series: only the parity figures count them.
import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { BackendName, RouteConfig } from '../config/schema.js';
import { compareResponses, type CompareRules, type ParityResponse } from '../parity/compare.js';
import type { ShadowConfig } from '../parity/schema.js';
import type { ParityStore, RouteParity } from '../parity/store.js';
import { stickyKey, type CompiledRoute } from '../split/route.js';
import type { ErrorKind } from '../stats/series.js';
import { bucketOf, interleaveNext } from '../split/decide.js';
import type { Cluster, UpstreamNode } from './cluster.js';
import { errorKind, nodeFailure } from './error-kinds.js';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** What the primary's Exchange tells the tap about its answer (only when the request is sampled). */
export interface PrimaryCapture {
  head(status: number, headers: Headers, latencyUs: number): void;
  data(chunk: Buffer): void;
  /** The exchange is over: `ok` when the whole answer reached the client. */
  done(ok: boolean): void;
}

/** What the tap needs of the primary's exchange (proxy/forward.ts's Exchange). */
export interface Tapped {
  readonly req: IncomingMessage;
  readonly backend: BackendName;
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  capture: PrimaryCapture | undefined;
}

/** The shadow was abandoned by cutover itself (over the limit, the primary failed): not the node's fault. */
class Abandoned extends Error {
  readonly code = 'SHADOW_ABANDONED';
}
/** The shadow's whole time (timeoutMs) passed. */
class ShadowTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

const OTHER: Record<BackendName, BackendName> = { legacy: 'candidate', candidate: 'legacy' };
/** Request fields the copy does not repeat: its body is a buffer whose length undici writes. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

export class ShadowTap {
  private readonly methods: ReadonlySet<string>;
  private readonly percent: number;
  readonly maxBodyBytes: number;
  readonly maxInFlight: number;
  readonly header: { name: string; value: string };
  readonly rules: CompareRules;
  private readonly salt: string;

  constructor(
    readonly route: string,
    cfg: ShadowConfig,
    readonly state: RouteParity,
    readonly timeoutMs: number | undefined,
    readonly now: () => number = () => performance.now(),
    /** The route, when it is sticky: the shadow then samples by its key. */
    private readonly sticky?: CompiledRoute,
  ) {
    this.salt = `${route}#shadow`;
    this.methods = new Set(cfg.methods ?? ['GET', 'HEAD']);
    this.percent = cfg.percent ?? 0;
    this.maxBodyBytes = cfg.maxBodyBytes ?? 1048576;
    this.maxInFlight = cfg.maxInFlight ?? 64;
    this.header = cfg.header ?? { name: 'x-cutover-shadow', value: '1' };
    this.rules = cfg.compare ?? {};
  }

  /**
   * Called once per request of this route, after the primary's exchange is built and before it
   * starts. Samples; a sampled request gets a capture of its primary answer and its copy.
   */
  tap(x: Tapped, clusters: Readonly<Record<BackendName, Cluster>>, path: string, headers: readonly string[]): void {
    const method = x.req.method ?? 'GET';
    if (!this.methods.has(method) || this.percent <= 0) return;
    if (this.percent < 100) {
      // By the sticky key when the route is sticky (a user is always or never shadowed; salted
      // apart from the split's buckets), else the shadow's own smooth interleave: exact and
      // deterministic over any run of requests.
      const key = this.sticky === undefined ? undefined : stickyKey(this.sticky, x.req.headers);
      if (key !== undefined ? bucketOf(this.salt, key) >= Math.round(this.percent * 100) : interleaveNext(this.state.interleave, this.percent) === 'legacy') return;
    }
    const figures = this.state.figures;
    const endpoint = figures.endpoint(method, path);
    if (this.state.open.size >= this.maxInFlight) return figures.dropped(endpoint);
    const other = clusters[OTHER[x.backend]];
    const copyHeaders: string[] = [];
    for (let i = 0; i < headers.length; i += 2) if (!FRAMING.has(headers[i].toLowerCase())) copyHeaders.push(headers[i], headers[i + 1]);
    copyHeaders.push(this.header.name, this.header.value);
    const pair = new ShadowPair(this, x, other, endpoint, method, path, copyHeaders);
    x.capture = pair;
    const body = x.dispatchOptions.body;
    if (body === null || body === undefined) pair.send(null);
    // undici takes an async iterable as a body (its types list only streams and buffers).
    else x.dispatchOptions.body = teed(x.req, pair) as unknown as Dispatcher.DispatchOptions['body'];
  }
}

/**
 * The request body as the primary gets it, chunk for chunk with the same backpressure (undici
 * pulls), while the chunks are copied for the shadow up to maxBodyBytes.
 */
async function* teed(req: IncomingMessage, pair: ShadowPair): AsyncGenerator<Buffer> {
  for await (const chunk of req as AsyncIterable<Buffer>) {
    pair.requestChunk(chunk);
    yield chunk;
  }
  pair.requestEnd();
}

type Side = 'pending' | 'ok' | 'failed' | 'over';

/** One sampled request: the primary's captured answer and the shadow copy, compared once both are complete. */
class ShadowPair implements PrimaryCapture, Dispatcher.DispatchHandler {
  private primary: Side = 'pending';
  private shadow: Side = 'pending';
  private pStatus = 0;
  private pHeaders: Headers = {};
  private pLatencyUs = 0;
  private pChunks: Buffer[] = [];
  private pBytes = 0;
  private sStatus = 0;
  private sHeaders: Headers = {};
  private sLatencyUs = 0;
  private sChunks: Buffer[] = [];
  private sBytes = 0;
  private sError: ErrorKind | undefined;
  private reqChunks: Buffer[] | undefined = [];
  private reqBytes = 0;
  private controller: Controller | undefined;
  private abortWith: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private node: UpstreamNode | undefined;
  private settled = false;
  private canceled = false;

  constructor(
    private readonly tap: ShadowTap,
    private readonly x: Tapped,
    private readonly cluster: Cluster,
    private readonly endpoint: string,
    private readonly method: string,
    private readonly path: string,
    private readonly headers: string[],
  ) {
    tap.state.open.add(this);
  }

  /** Shutdown: abandon the copy (and count nothing). */
  cancel(): void {
    this.canceled = true;
    this.abort(new Abandoned('cutover is shutting down'));
    if (this.primary === 'pending') this.primary = 'failed';
    this.settle();
  }

  // The request body, teed

  requestChunk(chunk: Buffer): void {
    if (this.reqChunks === undefined) return;
    this.reqBytes += chunk.length;
    if (this.reqBytes > this.tap.maxBodyBytes) {
      // Over the limit: the copy is abandoned (never sent); the primary streams on as before.
      this.reqChunks = undefined;
      this.shadow = 'over';
      this.settle();
      return;
    }
    this.reqChunks.push(chunk);
  }

  requestEnd(): void {
    if (this.reqChunks === undefined || this.shadow !== 'pending') return;
    const body = Buffer.concat(this.reqChunks);
    this.reqChunks = undefined;
    this.send(body);
  }

  /** Dispatch the copy to a node of the other cluster; nothing waits for it. */
  send(body: Buffer | null): void {
    if (this.settled || this.shadow !== 'pending') return;
    const ms = this.timeoutMsOf();
    this.node = this.cluster.next();
    this.started = this.tap.now();
    this.timer = setTimeout(() => this.abort(new ShadowTimeout(`the shadow did not answer within ${ms} ms`)), ms);
    this.timer.unref();
    try {
      this.node.pool.dispatch({ path: this.path, method: this.method as 'GET', headers: this.headers, body, headersTimeout: ms, bodyTimeout: ms }, this);
    } catch (err) {
      this.shadowFailed(err as Error);
    }
  }

  private timeoutMsOf(): number {
    return this.tap.timeoutMs ?? this.cluster.responseMs;
  }

  private abort(err: Error): void {
    if (this.shadow !== 'pending') return;
    if (this.controller) {
      if (!this.controller.aborted) this.controller.abort(err);
    } else this.abortWith = err;
    // A handler undici has not started yet (queued behind a busy pool) fails here and now.
    if (!this.controller) this.shadowFailed(err);
  }

  // The shadow's answer (undici dispatch handler)

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.abortWith) controller.abort(this.abortWith);
  }

  onResponseStart(c: Controller, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return;
    if (this.node) this.cluster.responded(this.node, statusCode);
    this.sStatus = statusCode;
    this.sHeaders = headers;
    this.sLatencyUs = (this.tap.now() - this.started) * 1000;
    void c;
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    if (this.shadow !== 'pending') return;
    this.sBytes += chunk.length;
    if (this.sBytes > this.tap.maxBodyBytes) {
      this.shadow = 'over';
      this.sChunks = [];
      c.abort(new Abandoned('the shadow answer is over maxBodyBytes'));
      this.settle();
      return;
    }
    this.sChunks.push(Buffer.from(chunk));
  }

  onResponseEnd(): void {
    if (this.shadow !== 'pending') return;
    this.shadow = 'ok';
    this.settle();
  }

  onResponseError(_c: Controller, err: Error): void {
    this.shadowFailed(err);
  }

  private shadowFailed(err: Error): void {
    if (this.shadow !== 'pending') return;
    this.shadow = 'failed';
    if (!(err instanceof Abandoned)) {
      this.sError = errorKind(err);
      const failure = nodeFailure(err);
      if (failure && this.node) this.cluster.failed(this.node, failure);
    }
    this.settle();
  }

  // The primary's answer, as the Exchange streams it to the client

  head(status: number, headers: Headers, latencyUs: number): void {
    this.pStatus = status;
    this.pHeaders = headers;
    this.pLatencyUs = latencyUs;
  }

  data(chunk: Buffer): void {
    if (this.primary !== 'pending') return;
    this.pBytes += chunk.length;
    if (this.pBytes > this.tap.maxBodyBytes) {
      this.primary = 'over';
      this.pChunks = [];
      return;
    }
    this.pChunks.push(Buffer.from(chunk));
  }

  done(ok: boolean): void {
    if (this.primary === 'pending') this.primary = ok ? 'ok' : 'failed';
    else if (!ok) this.primary = 'failed';
    // No primary answer to compare with: the copy is not needed any more.
    if (this.primary === 'failed') this.abort(new Abandoned('the primary failed'));
    this.settle();
  }

  /** Once both sides are over: free the slot, then count what came of it. */
  private settle(): void {
    if (this.settled || this.primary === 'pending') return;
    if (this.shadow === 'pending') return;
    this.settled = true;
    clearTimeout(this.timer);
    this.tap.state.open.delete(this);
    this.reqChunks = undefined;
    if (this.canceled) return;
    const figures = this.tap.state.figures;
    if (this.sError !== undefined) return figures.error(this.endpoint, this.sError);
    if (this.primary === 'over' || this.shadow === 'over') return figures.skipped(this.endpoint);
    if (this.primary === 'failed' || this.shadow === 'failed') return; // abandoned by cutover: nothing to compare
    const p: ParityResponse = { status: this.pStatus, headers: this.pHeaders, body: Buffer.concat(this.pChunks) };
    const s: ParityResponse = { status: this.sStatus, headers: this.sHeaders, body: Buffer.concat(this.sChunks) };
    this.pChunks = this.sChunks = [];
    const result = compareResponses(p, s, this.tap.rules, []);
    figures.compared({
      method: this.method,
      path: this.path,
      headers: this.x.req.headers,
      primary: { backend: this.x.backend, status: p.status, latencyUs: this.pLatencyUs },
      shadow: { backend: this.cluster.name, status: s.status, latencyUs: this.sLatencyUs },
      result,
    });
  }
}

/**
 * A compiled route with its shadow tap (routes[].shadow), or with `shadow: undefined`: every
 * route has the same shape, and one without a shadow costs the request path one field check.
 */
/** A route as the proxy serves it: compiled, with its shadow tap (parity) when routes[].shadow is set. */
export type ProxyRoute = CompiledRoute & {
  /** Undefined without routes[].shadow: one field check per request. */
  readonly shadow?: ShadowTap;
};

export function withShadow(route: CompiledRoute, config: RouteConfig, parity: ParityStore | undefined): ProxyRoute {
  const cfg = config.shadow;
  const shadow = cfg && parity ? new ShadowTap(route.name, cfg, parity.route(route.name, { redact: cfg.redact }), cfg.timeoutMs, undefined, route.stickyHeader || route.stickyCookie ? route : undefined) : undefined;
  return { ...route, shadow };
}

/** Methods a shadow may copy without a side effect reaching the second system. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `cutover validate`'s warnings: routes whose shadow copies writes, which then reach both systems. */
export function shadowWarnings(routes: readonly RouteConfig[]): string[] {
  const out: string[] = [];
  for (const r of routes) {
    const writes = (r.shadow?.methods ?? []).filter((m) => !SAFE.has(m));
    if (r.shadow && writes.length > 0)
      out.push(`routes.${r.name}.shadow.methods lists ${writes.join(', ')}: those requests reach both systems (each copy carries ${r.shadow.header?.name ?? 'x-cutover-shadow'} so a backend can suppress side effects)`);
  }
  return out;
}

// The shadow tap of one route: for a sampled request, a bounded copy goes to a node of the OTHER
// cluster (the one the split did not choose), off the client's path, and once both answers are
// complete they are compared (parity/compare.ts) and counted (parity/figures.ts).
//
// The client never waits for the shadow: the copy is dispatched and forgotten by the request
// path; nothing of the primary's exchange waits on it (not for its connection, its answer or its
// body). The primary's answer is copied as it streams (up to maxBodyBytes), never held back.
// Shadow requests never enter the guard's series: only the parity figures count them.
// Noise learning: noise.percent of the shadowed requests are also sent to legacy a second time;
// what differs between the two legacy answers is noise for the endpoint (parity/noise.ts).
import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { BackendName, RouteConfig } from '../config/schema.js';
import { compareResponses, type CompareRules, type ParityResponse } from '../parity/compare.js';
import type { ShadowConfig } from '../parity/schema.js';
import type { Control } from '../control/control.js';
import type { ParityStore, RouteParity } from '../parity/store.js';
import { stickyKey, type CompiledRoute, type ShadowShare } from '../split/route.js';
import { bucketOf, interleaveNext } from '../split/decide.js';
import type { Cluster } from './cluster.js';
import { Abandoned, CopyRequest, type CopyTarget, type Headers } from './shadow-copy.js';

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

const OTHER: Record<BackendName, BackendName> = { legacy: 'candidate', candidate: 'legacy' };
/** Request fields the copy does not repeat: its body is a buffer whose length undici writes. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

export class ShadowTap {
  private readonly methods: ReadonlySet<string>;
  private readonly noisePercent: number;
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
    /** The share sampled, owned by control (PUT /api/v1/shadow): read on every request. */
    private readonly share: ShadowShare = { percent: cfg.percent ?? 0 },
  ) {
    this.salt = `${route}#shadow`;
    this.methods = new Set(cfg.methods ?? ['GET', 'HEAD']);
    this.noisePercent = cfg.noise?.percent ?? 0;
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
    const percent = this.share.percent;
    if (!this.methods.has(method) || percent <= 0) return;
    if (percent < 100) {
      // By the sticky key when the route is sticky (a user is always or never shadowed; salted
      // apart from the split's buckets), else the shadow's own smooth interleave: exact and
      // deterministic over any run of requests.
      const key = this.sticky === undefined ? undefined : stickyKey(this.sticky, x.req.headers);
      if (key !== undefined ? bucketOf(this.salt, key) >= Math.round(percent * 100) : interleaveNext(this.state.interleave, percent) === 'legacy') return;
    }
    const figures = this.state.figures;
    const endpoint = figures.endpoint(method, path);
    if (this.state.open.size >= this.maxInFlight) return figures.dropped(endpoint);
    const copyHeaders: string[] = [];
    for (let i = 0; i < headers.length; i += 2) if (!FRAMING.has(headers[i].toLowerCase())) copyHeaders.push(headers[i], headers[i + 1]);
    copyHeaders.push(this.header.name, this.header.value);
    // noise.percent of the shadowed requests also go to legacy a second time (noise learning), and
    // every endpoint's first few (NoiseTable.warming).
    const learning = this.noisePercent > 0 && (this.state.noise.warming(endpoint) || interleaveNext(this.state.noiseInterleave, this.noisePercent) === 'candidate');
    const noise = learning ? clusters.legacy : undefined;
    const pair = new ShadowPair(this, x, clusters[OTHER[x.backend]], noise, endpoint, { method, path, headers: copyHeaders });
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

/**
 * One sampled request: the primary's captured answer and the shadow copy, compared once both are
 * complete; with a noise copy, once it is complete too, and only after its answer and the pair's
 * legacy answer taught the noise table, so that even the first comparison of an endpoint leaves
 * out what two legacy answers to the same request disagree on. The slot in `open` is held until
 * every copy is over.
 */
class ShadowPair implements PrimaryCapture {
  private primary: Side = 'pending';
  private pStatus = 0;
  private pHeaders: Headers = {};
  private pLatencyUs = 0;
  private pChunks: Buffer[] = [];
  private pBytes = 0;
  private reqChunks: Buffer[] | undefined = [];
  private reqBytes = 0;
  private readonly copy: CopyRequest;
  private readonly noise: CopyRequest | undefined;
  private compared = false;
  private canceled = false;

  constructor(
    private readonly tap: ShadowTap,
    private readonly x: Tapped,
    cluster: Cluster,
    noiseCluster: Cluster | undefined,
    private readonly endpoint: string,
    private readonly target: CopyTarget,
  ) {
    this.copy = new CopyRequest(cluster, tap.maxBodyBytes, tap.timeoutMs, tap.now, () => this.compare());
    this.noise = noiseCluster && new CopyRequest(noiseCluster, tap.maxBodyBytes, tap.timeoutMs, tap.now, () => this.compare());
    tap.state.open.add(this);
  }

  /** Shutdown: abandon the copies (and count nothing). */
  cancel(): void {
    this.canceled = true;
    if (this.primary === 'pending') this.primary = 'failed';
    for (const c of [this.copy, this.noise]) c?.abort(new Abandoned('cutover is shutting down'));
    this.compare();
  }

  // The request body, teed

  requestChunk(chunk: Buffer): void {
    if (this.reqChunks === undefined) return;
    this.reqBytes += chunk.length;
    if (this.reqBytes > this.tap.maxBodyBytes) {
      // Over the limit: the copies are abandoned (never sent); the primary streams on as before.
      this.reqChunks = undefined;
      this.copy.skip();
      this.noise?.skip();
      return;
    }
    this.reqChunks.push(chunk);
  }

  requestEnd(): void {
    if (this.reqChunks === undefined) return;
    const body = Buffer.concat(this.reqChunks);
    this.reqChunks = undefined;
    this.send(body);
  }

  /** Dispatch the copies; nothing waits for them. */
  send(body: Buffer | null): void {
    if (this.compared) return;
    const t = this.target;
    this.tap.state.cases.add(this.endpoint, t.method, t.path, this.x.req.headers, body);
    this.copy.send(t, body);
    this.noise?.send(this.target, body);
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
    // No primary answer to compare with: the copies are not needed any more.
    if (this.primary === 'failed') for (const c of [this.copy, this.noise]) c?.abort(new Abandoned('the primary failed'));
    this.compare();
  }

  /** Once the primary and every copy are over: learn the noise, then count what came of the comparison. */
  private compare(): void {
    if (this.compared || this.primary === 'pending' || this.copy.state === 'pending' || this.noise?.state === 'pending') return;
    this.compared = true;
    this.reqChunks = undefined;
    this.tap.state.open.delete(this);
    if (!this.canceled) {
      // Each answer's body is handed over once: read both here, for the noise table and the comparison.
      const copied = this.copy.state === 'ok' ? this.copy.response() : undefined;
      const primary = this.primary === 'ok' ? this.primaryAnswer() : undefined;
      this.learn(primary, copied);
      this.count(primary, copied);
    }
    this.pChunks = [];
  }

  private primaryAnswer(): ParityResponse {
    return { status: this.pStatus, headers: this.pHeaders, body: Buffer.concat(this.pChunks) };
  }

  private count(p: ParityResponse | undefined, s: ParityResponse | undefined): void {
    const figures = this.tap.state.figures;
    const c = this.copy;
    if (c.error !== undefined) return figures.error(this.endpoint, c.error);
    if (this.primary === 'over' || c.state === 'over') return figures.skipped(this.endpoint);
    if (p === undefined || s === undefined) return; // abandoned by cutover: nothing to compare
    const result = compareResponses(p, s, this.tap.rules, this.tap.state.noise.patterns(this.endpoint));
    figures.compared({
      method: this.target.method,
      path: this.target.path,
      headers: this.x.req.headers,
      primary: { backend: this.x.backend, status: p.status, latencyUs: this.pLatencyUs },
      shadow: { backend: c.cluster.name, status: s.status, latencyUs: c.latencyUs },
      result,
    });
  }

  /** The noise copy's answer and the pair's legacy answer (the primary's or the copy's): what differs is noise. */
  private learn(primary: ParityResponse | undefined, copied: ParityResponse | undefined): void {
    const n = this.noise;
    if (!n) return;
    if (n.error !== undefined) return this.tap.state.figures.error(this.endpoint, n.error);
    const first = this.x.backend === 'legacy' ? primary : copied;
    if (n.state !== 'ok' || first === undefined) return;
    const paths = this.tap.state.noise.learn(this.endpoint, first, n.response(), this.tap.rules);
    if (paths.length > 0) this.tap.state.figures.noise(this.endpoint, paths);
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

export function withShadow(route: CompiledRoute, config: RouteConfig, parity: ParityStore | undefined, control: Pick<Control, 'shadowShare'>): ProxyRoute {
  const cfg = config.shadow;
  const sticky = route.stickyHeader || route.stickyCookie ? route : undefined;
  const shadow = cfg && parity ? new ShadowTap(route.name, cfg, parity.route(route.name, { redact: cfg.redact }), cfg.timeoutMs, undefined, sticky, control.shadowShare(route.name, cfg.percent ?? 0)) : undefined;
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

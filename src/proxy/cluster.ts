// One backend cluster: an undici keep-alive Pool per node, round robin across them, skipping the
// nodes that the outlier detector (./outlier.ts) ejected, so that the others serve meanwhile.
// With discovery (./discovery.ts) the node set changes while serving: update() swaps in a new
// node list (kept nodes keep their pool and outlier state), and a removed node's pool finishes
// its in-flight requests, then closes.
import { Pool } from 'undici';
import type { BackendConfig, BackendName } from '../config/schema.js';
import { diffNodeSets, hostOf, nodeSpecs, type NodeSpec } from './node-set.js';
import { OutlierDetector, type Ejection, type NodeFailure, type NodeHealth } from './outlier.js';

export interface UpstreamNode {
  readonly origin: string;
  readonly pool: Pool;
  /** Monotonic ms until which the node is ejected (skipped); 0 when it never was. */
  downUntil: number;
  /** Position in the cluster's node list (and the outlier detector's); -1 once removed. */
  index: number;
  readonly address: string;
  readonly upstream: string;
  readonly source: NodeSpec['source'];
  /** Wall-clock ms of the last DNS answer that listed it; 0 for a static node. */
  seenAt: number;
}

/** What the cluster shows of its discovery (./discovery.ts), and how it is stopped. */
export interface ClusterDiscovery {
  status(): DiscoveryStatus;
  /** The addresses last known per upstream (a cluster replaced by a reload starts from them). */
  known(): ReadonlyMap<string, readonly string[]>;
  close(): void;
}

export interface DiscoveryStatus {
  /** ok: the last refresh of every name had addresses; degraded: some did not, their last known set serves. */
  state: 'ok' | 'degraded';
  refreshSeconds: number;
  /** ISO time of the last refresh (successful or not); null before the first one. */
  lastRefresh: string | null;
  /** ISO time of the last refresh whose every lookup had addresses. */
  lastSuccess: string | null;
  /** Why the last refresh degraded the cluster, one entry per failed name. */
  errors: string[];
}

/**
 * An ejection decided (enforced or not), an ejected node back in the round robin, or what a
 * discovery refresh did (every refresh; `changed` when the state went from ok to degraded or back).
 */
export type NodeEvent =
  | ({ type: 'ejected'; backend: BackendName; origin: string } & Ejection)
  | { type: 'returned'; backend: BackendName; origin: string; node: number; ejections: number }
  | { type: 'refreshed'; backend: BackendName; state: DiscoveryStatus['state']; changed: boolean; errors: string[]; added: string[]; removed: string[]; nodes: number };

export interface NodeStatus extends Omit<NodeHealth, 'ejectedUntil' | 'heldUntil'> {
  origin: string;
  /** static: a listed upstream; dns: one address of a discovered name. */
  source: NodeSpec['source'];
  address: string;
  upstream: string;
  /** ISO time of the last DNS answer that listed the node; null for a static node. */
  lastRefresh: string | null;
  state: 'serving' | 'ejected';
  /** Ms left of the ejection; 0 when serving. */
  ejectedForMs: number;
}

/**
 * Pure choice of the next node: round robin from `cursor`, skipping ejected nodes and `avoid`
 * (the node a retry comes from). When every other node is ejected, the one whose ejection ends
 * first is tried (a probe), so a cluster that comes back is noticed without waiting.
 */
export function pickNode<N extends { downUntil: number }>(nodes: readonly N[], cursor: number, now: number, avoid = -1): number {
  const n = nodes.length;
  let soonest = -1;
  for (let k = 0; k < n; k++) {
    const i = (cursor + k) % n;
    if (i === avoid) continue;
    if (nodes[i].downUntil <= now) return i;
    if (soonest === -1 || nodes[i].downUntil < nodes[soonest].downUntil) soonest = i;
  }
  return soonest === -1 ? avoid : soonest;
}

export class Cluster {
  /** Replaced whole (never changed in place) when discovery changes the set. */
  nodes: readonly UpstreamNode[];
  private cursor = 0;
  /** Removed nodes whose pools are finishing their in-flight requests. */
  private readonly draining = new Set<UpstreamNode>();
  /** Set by discovery (./discovery.ts) when the backend has one. */
  discovery: ClusterDiscovery | undefined;
  /** Per-request response timeout (ms); a reload may change it without replacing the pools. */
  responseMs: number;
  readonly outlier: OutlierDetector;
  private readonly returnTimers = new Set<NodeJS.Timeout>();

  constructor(
    readonly name: BackendName,
    readonly config: BackendConfig,
    private readonly clock: () => number = () => performance.now(),
    /** Told about every ejection and return (logs and metrics); never on the hot path otherwise. */
    private readonly onNodeEvent: (e: NodeEvent) => void = () => {},
  ) {
    this.responseMs = config.timeouts.responseMs;
    const specs: NodeSpec[] = config.discovery
      ? nodeSpecs(config.upstreams, new Map()) // names until discovery's first answer (./discovery.ts)
      : config.upstreams.map((u) => ({ origin: new URL(u).origin, address: hostOf(u), upstream: u, source: 'static' }));
    this.nodes = specs.map((spec, index) => this.node(spec, index));
    this.outlier = new OutlierDetector(this.nodes.length, config.outlierDetection, clock);
  }

  private node(spec: NodeSpec, index: number): UpstreamNode {
    const name = hostOf(spec.upstream);
    // TLS to an address of a name: SNI and the certificate check use the name (RFC 6066 section 3).
    const servername = spec.source === 'dns' && spec.origin.startsWith('https:') && name !== spec.address ? name : undefined;
    return {
      origin: spec.origin,
      pool: new Pool(spec.origin, {
        connect: { timeout: this.config.timeouts.connectMs, ...(servername ? { servername } : {}) },
        keepAliveTimeout: 4_000,
        // Timeouts are passed per request too, so a config reload applies to the next request.
        headersTimeout: this.config.timeouts.responseMs,
        bodyTimeout: this.config.timeouts.responseMs,
      }),
      downUntil: 0,
      index,
      address: spec.address,
      upstream: spec.upstream,
      source: spec.source,
      seenAt: 0,
    };
  }

  /**
   * Serve with `specs` from the next request on (discovery's refresh; never empty). Nodes kept
   * keep their pool, connections and outlier state; a new one starts fresh; a removed one gets no
   * new request, and its pool closes once its in-flight requests have finished. `seenAt`: the
   * wall-clock time of the answer. Returns what changed.
   */
  update(specs: readonly NodeSpec[], seenAt = Date.now()): { added: string[]; removed: string[] } {
    if (specs.length === 0) throw new Error(`cluster ${this.name}: a node set is never empty`);
    const byOrigin = new Map(this.nodes.map((n) => [n.origin, n]));
    const diff = diffNodeSets(this.nodes.map((n) => n.origin), specs.map((s) => s.origin));
    const from: number[] = [];
    const next = specs.map((spec, i) => {
      const kept = byOrigin.get(spec.origin);
      from.push(kept ? kept.index : -1);
      const n = kept ?? this.node(spec, i);
      n.index = i;
      if (spec.source === 'dns' && spec.address !== hostOf(spec.upstream)) n.seenAt = seenAt;
      return n;
    });
    for (const origin of diff.removed) {
      const gone = byOrigin.get(origin)!;
      gone.index = -1; // late outcomes of its in-flight requests no longer count
      this.draining.add(gone);
      // undici's close(): no new requests, the queued and running ones complete, then it closes.
      gone.pool.close().finally(() => this.draining.delete(gone));
    }
    this.outlier.remap(from);
    this.nodes = next;
    this.cursor = this.cursor % next.length;
    return { added: diff.added, removed: diff.removed };
  }

  /** The node for the next request; `avoid` is the node a retry comes from. */
  next(avoid?: UpstreamNode): UpstreamNode {
    const i = this.nodes.length === 1 ? 0 : pickNode(this.nodes, this.cursor, this.clock(), avoid ? avoid.index : -1);
    this.cursor = i + 1;
    return this.nodes[i];
  }

  /** How many nodes are not ejected right now, `except` one. */
  available(except?: UpstreamNode): number {
    const now = this.clock();
    return this.nodes.filter((n) => n !== except && n.downUntil <= now).length;
  }

  /** An attempt on `node` got response headers (every response: keep this cheap). */
  responded(node: UpstreamNode, status: number): void {
    if (node.index < 0) return; // removed by discovery while the request ran
    const e = this.outlier.response(node.index, status);
    if (e) this.apply(node, e);
  }

  /** An attempt on `node` failed without a response. */
  failed(node: UpstreamNode, kind: NodeFailure): void {
    if (node.index < 0) return;
    const e = this.outlier.failure(node.index, kind);
    if (e) this.apply(node, e);
  }

  refused(node: UpstreamNode): void {
    this.failed(node, 'refused');
  }

  private apply(node: UpstreamNode, e: Ejection): void {
    this.onNodeEvent({ type: 'ejected', backend: this.name, origin: node.origin, ...e });
    if (!e.enforced) return;
    node.downUntil = e.until;
    // Only to say so (log, metrics read the state): routing already follows downUntil.
    const timer = setTimeout(() => {
      this.returnTimers.delete(timer);
      if (node.index < 0) return; // removed by discovery meanwhile
      if (this.outlier.view(node.index).ejectedUntil !== e.until) return; // ejected again since; that one will say so
      this.onNodeEvent({ type: 'returned', backend: this.name, origin: node.origin, node: node.index, ejections: e.ejections });
    }, e.durationMs);
    timer.unref();
    this.returnTimers.add(timer);
  }

  /** Every node with its health, for the status API and the metrics. */
  health(): NodeStatus[] {
    const now = this.clock();
    return this.nodes.map((n, i) => {
      // ejectedUntil is on the monotonic clock, meaningless outside the process: say what is left.
      const { ejectedUntil, heldUntil: _held, ...h } = this.outlier.view(i, now);
      const left = Math.max(0, ejectedUntil - now);
      return {
        origin: n.origin,
        source: n.source,
        address: n.address,
        upstream: n.upstream,
        lastRefresh: n.seenAt === 0 ? null : new Date(n.seenAt).toISOString(),
        state: left > 0 ? 'ejected' : 'serving',
        ejectedForMs: Math.ceil(left),
        ...h,
      };
    });
  }

  /** Finish in-flight requests, then close the pools. */
  async close(): Promise<void> {
    this.stopTimers();
    await Promise.all([...this.nodes, ...this.draining].map((n) => n.pool.close()));
  }

  /** Drop every connection now. */
  async destroy(): Promise<void> {
    this.stopTimers();
    await Promise.all([...this.nodes, ...this.draining].map((n) => n.pool.destroy()));
  }

  private stopTimers(): void {
    this.discovery?.close();
    for (const t of this.returnTimers) clearTimeout(t);
    this.returnTimers.clear();
  }
}

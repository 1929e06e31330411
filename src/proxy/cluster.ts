// One backend cluster: an undici keep-alive Pool per node, round robin across them, skipping the
// nodes that the outlier detector (./outlier.ts) ejected, so that the others serve meanwhile.
import { Pool } from 'undici';
import type { BackendConfig, BackendName } from '../config/schema.js';
import { OutlierDetector, type Ejection, type NodeFailure, type NodeHealth } from './outlier.js';

export interface UpstreamNode {
  readonly origin: string;
  readonly pool: Pool;
  /** Monotonic ms until which the node is ejected (skipped); 0 when it never was. */
  downUntil: number;
}

/** An ejection decided (enforced or not), or an ejected node back in the round robin. */
export type NodeEvent =
  | ({ type: 'ejected'; backend: BackendName; origin: string } & Ejection)
  | { type: 'returned'; backend: BackendName; origin: string; node: number; ejections: number };

export interface NodeStatus extends Omit<NodeHealth, 'ejectedUntil' | 'heldUntil'> {
  origin: string;
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
  readonly nodes: UpstreamNode[];
  private cursor = 0;
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
    this.nodes = config.upstreams.map((origin) => ({
      origin: new URL(origin).origin,
      pool: new Pool(new URL(origin).origin, {
        connect: { timeout: config.timeouts.connectMs },
        keepAliveTimeout: 4_000,
        // Timeouts are passed per request too, so a config reload applies to the next request.
        headersTimeout: config.timeouts.responseMs,
        bodyTimeout: config.timeouts.responseMs,
      }),
      downUntil: 0,
    }));
    this.outlier = new OutlierDetector(this.nodes.length, config.outlierDetection, clock);
  }

  /** The node for the next request; `avoid` is the node a retry comes from. */
  next(avoid?: UpstreamNode): UpstreamNode {
    const i = this.nodes.length === 1 ? 0 : pickNode(this.nodes, this.cursor, this.clock(), avoid ? this.nodes.indexOf(avoid) : -1);
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
    const e = this.outlier.response(this.nodes.indexOf(node), status);
    if (e) this.apply(node, e);
  }

  /** An attempt on `node` failed without a response. */
  failed(node: UpstreamNode, kind: NodeFailure): void {
    const e = this.outlier.failure(this.nodes.indexOf(node), kind);
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
      if (this.outlier.view(e.node).ejectedUntil !== e.until) return; // ejected again since; that one will say so
      this.onNodeEvent({ type: 'returned', backend: this.name, origin: node.origin, node: e.node, ejections: e.ejections });
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
      return { origin: n.origin, state: left > 0 ? 'ejected' : 'serving', ejectedForMs: Math.ceil(left), ...h };
    });
  }

  /** Finish in-flight requests, then close the pools. */
  async close(): Promise<void> {
    this.stopTimers();
    await Promise.all(this.nodes.map((n) => n.pool.close()));
  }

  /** Drop every connection now. */
  async destroy(): Promise<void> {
    this.stopTimers();
    await Promise.all(this.nodes.map((n) => n.pool.destroy()));
  }

  private stopTimers(): void {
    for (const t of this.returnTimers) clearTimeout(t);
    this.returnTimers.clear();
  }
}

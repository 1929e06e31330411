// One backend cluster: an undici keep-alive Pool per node, round robin across them, and a short
// back-off for a node that refuses connections so that the others serve in the meantime.
import { Pool } from 'undici';
import type { BackendConfig, BackendName } from '../config/schema.js';

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 10_000;

export interface UpstreamNode {
  readonly origin: string;
  readonly pool: Pool;
  /** Monotonic ms until which the node is skipped; 0 when healthy. */
  downUntil: number;
  /** Refusals in a row; the back-off doubles with each. */
  failures: number;
}

/**
 * Pure choice of the next node: round robin from `cursor`, skipping nodes in back-off. When
 * every node is in back-off, the one whose back-off ends first is tried (a probe), so a
 * cluster that comes back is noticed without waiting.
 */
export function pickNode<N extends { downUntil: number }>(nodes: readonly N[], cursor: number, now: number): number {
  const n = nodes.length;
  let soonest = cursor % n;
  for (let k = 0; k < n; k++) {
    const i = (cursor + k) % n;
    if (nodes[i].downUntil <= now) return i;
    if (nodes[i].downUntil < nodes[soonest].downUntil) soonest = i;
  }
  return soonest;
}

export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
}

export class Cluster {
  readonly nodes: UpstreamNode[];
  private cursor = 0;
  /** Per-request response timeout (ms); a reload may change it without replacing the pools. */
  responseMs: number;

  constructor(
    readonly name: BackendName,
    readonly config: BackendConfig,
    private readonly clock: () => number = () => performance.now(),
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
      failures: 0,
    }));
  }

  /** The node for the next request. */
  next(): UpstreamNode {
    const i = this.nodes.length === 1 ? 0 : pickNode(this.nodes, this.cursor, this.clock());
    this.cursor = i + 1;
    return this.nodes[i];
  }

  /** How many nodes are not in back-off right now. */
  available(): number {
    const now = this.clock();
    return this.nodes.filter((n) => n.downUntil <= now).length;
  }

  refused(node: UpstreamNode): void {
    node.failures++;
    node.downUntil = this.clock() + backoffMs(node.failures);
  }

  succeeded(node: UpstreamNode): void {
    node.failures = 0;
    node.downUntil = 0;
  }

  /** Finish in-flight requests, then close the pools. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.pool.close()));
  }

  /** Drop every connection now. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.pool.destroy()));
  }
}

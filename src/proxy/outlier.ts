// Passive outlier detection for the nodes of one cluster, after Envoy's: the request path only
// *records* each attempt's outcome (a status, or a transport failure); this detector *decides*,
// with an injected clock and no I/O, whether a node is ejected, for how long, and whether the
// ejection is enforced or only detected (dry run, or the cap on the share of ejected nodes).
// The cluster (the thin shell) applies what it returns: routing, a log line, a counter.
import type { OutlierConfig } from '../config/schema.js';

/** A transport failure of one attempt on one node (no usable response). */
export type NodeFailure = 'refused' | 'connect-timeout' | 'reset' | 'timeout';
export type EjectionReason = 'consecutive-gateway-failure' | 'consecutive-5xx';
/** Why a detection did not eject the node. */
export type NotEnforced = 'dry-run' | 'max-ejection-percent';

export interface Ejection {
  node: number;
  reason: EjectionReason;
  /** The outcome that crossed the threshold: a status ("503") or a failure ("reset"). */
  last: string;
  enforced: boolean;
  notEnforced?: NotEnforced;
  /** The node's ejection count after this one (the multiplier of the base ejection time). */
  ejections: number;
  /** How long the node is (or, not enforced, would be) out. */
  durationMs: number;
  /** Monotonic ms at which an enforced ejection ends. */
  until: number;
}

/** Per-node state, as the status API shows it. */
export interface NodeHealth {
  consecutiveGatewayFailure: number;
  consecutive5xx: number;
  /** Ejection count (enforced or not), the multiplier of the base ejection time; decays while the node behaves. */
  ejections: number;
  /** Monotonic ms until which the node is ejected; 0 when it never was. */
  ejectedUntil: number;
  /**
   * Monotonic ms until which the last detection holds, enforced or not: no new detection before
   * it. A dry run (or a node the cap kept in) thus follows the timing enforcement would have,
   * its counts say what enforcing would have done, and a failing single node is reported once
   * per ejection time, not once per few requests.
   */
  heldUntil: number;
  detected: number;
  enforced: number;
  lastReason: EjectionReason | null;
}

const fresh = (): NodeHealth => ({
  consecutiveGatewayFailure: 0,
  consecutive5xx: 0,
  ejections: 0,
  ejectedUntil: 0,
  heldUntil: 0,
  detected: 0,
  enforced: 0,
  lastReason: null,
});

/** RFC 9110 section 15.6: 502, 503 and 504 say a gateway (or the node itself) could not serve. */
const isGatewayStatus = (status: number): boolean => status === 502 || status === 503 || status === 504;

/** Ejection time grows linearly with the node's ejection count (Envoy's rule), up to the cap. */
export function ejectionMs(policy: Pick<OutlierConfig, 'baseEjectionMs' | 'maxEjectionMs'>, ejections: number): number {
  return Math.min(policy.baseEjectionMs * Math.max(1, ejections), Math.max(policy.baseEjectionMs, policy.maxEjectionMs));
}

/**
 * How many of `nodes` may be ejected at once. A single node is never ejected: there is nothing
 * to route around it, so ejecting it would only hide the failure from the retry and the status.
 */
export function maxEjected(nodes: number, maxEjectionPercent: number): number {
  return nodes <= 1 ? 0 : Math.floor((nodes * maxEjectionPercent) / 100 + 1e-9);
}

/**
 * The ejection count after `healthyMs` without an ejection: one step less per maxEjectionMs
 * (the longest ejection), so a node that failed once long ago starts again at the base time.
 */
export function decayed(ejections: number, healthyMs: number, maxEjectionMs: number): number {
  if (ejections === 0 || healthyMs <= 0) return ejections;
  return Math.max(0, ejections - Math.floor(healthyMs / Math.max(1, maxEjectionMs)));
}

export class OutlierDetector {
  private health: NodeHealth[];

  constructor(
    size: number,
    private policy: OutlierConfig,
    private readonly clock: () => number,
  ) {
    this.health = Array.from({ length: size }, fresh);
  }

  /**
   * A new node list (discovery): node i of the new list had index `from[i]` in the old one, or
   * -1 when it is new. Kept nodes keep their counts and ejections; removed ones are forgotten.
   */
  remap(from: readonly number[]): void {
    this.health = from.map((i) => (i >= 0 ? this.health[i] : fresh()));
  }

  /** A reload may change the thresholds; counters and ejections in progress are kept. */
  configure(policy: OutlierConfig): void {
    this.policy = policy;
  }

  /** An attempt got response headers with `status`. The hot path: two compares when healthy. */
  response(node: number, status: number): Ejection | undefined {
    const h = this.health[node];
    if (status < 500) {
      h.consecutive5xx = 0;
      h.consecutiveGatewayFailure = 0;
      return undefined;
    }
    // As Envoy: a 5xx that is not a gateway error breaks a run of gateway failures.
    if (isGatewayStatus(status)) h.consecutiveGatewayFailure++;
    else h.consecutiveGatewayFailure = 0;
    h.consecutive5xx++;
    return this.judge(node, String(status));
  }

  /** An attempt failed without a response. Each failure also counts as a 5xx (a 502 or 504 to the client). */
  failure(node: number, kind: NodeFailure): Ejection | undefined {
    const h = this.health[node];
    h.consecutiveGatewayFailure++;
    h.consecutive5xx++;
    return this.judge(node, kind);
  }

  private judge(node: number, last: string): Ejection | undefined {
    const p = this.policy;
    const h = this.health[node];
    let reason: EjectionReason;
    if (p.consecutiveGatewayFailure !== null && h.consecutiveGatewayFailure >= p.consecutiveGatewayFailure) reason = 'consecutive-gateway-failure';
    else if (p.consecutive5xx !== null && h.consecutive5xx >= p.consecutive5xx) reason = 'consecutive-5xx';
    else return undefined;
    // Both runs start again, so a node that keeps failing is detected again after as many failures.
    h.consecutiveGatewayFailure = 0;
    h.consecutive5xx = 0;
    const now = this.clock();
    // Within the last detection's ejection time (attempts already on their way when the node was
    // ejected, or a node not ejected): nothing new to decide.
    if (h.heldUntil > now) return undefined;
    h.detected++;
    h.lastReason = reason;
    const ejections = decayed(h.ejections, now - h.heldUntil, p.maxEjectionMs) + 1;
    const durationMs = ejectionMs(p, ejections);
    h.ejections = ejections;
    h.heldUntil = now + durationMs;
    const notEnforced: NotEnforced | undefined = !p.enforcing
      ? 'dry-run'
      : this.ejectedCount(now) + 1 > maxEjected(this.health.length, p.maxEjectionPercent)
        ? 'max-ejection-percent'
        : undefined;
    if (notEnforced) return { node, reason, last, enforced: false, notEnforced, ejections, durationMs, until: 0 };
    h.enforced++;
    h.ejectedUntil = h.heldUntil;
    return { node, reason, last, enforced: true, ejections, durationMs, until: h.ejectedUntil };
  }

  ejected(node: number, now = this.clock()): boolean {
    return this.health[node].ejectedUntil > now;
  }

  ejectedCount(now = this.clock()): number {
    let n = 0;
    for (const h of this.health) if (h.ejectedUntil > now) n++;
    return n;
  }

  /** A copy of one node's state, with the ejection count decayed to now. */
  view(node: number, now = this.clock()): NodeHealth {
    const h = this.health[node];
    const ejections = h.heldUntil > now ? h.ejections : decayed(h.ejections, now - h.heldUntil, this.policy.maxEjectionMs);
    return { ...h, ejections };
  }
}

// Where the guard, the ramp and the scorecard read a route's parity from: a function of the route
// name, so that one process passes its own ParityStore, and the workers' primary or the fleet's
// leader the merged figures. The deciders need only the counts and the differing paths, which is
// also what travels in the fleet's snapshots (a whole ParitySnapshot is one, too). No I/O.
import type { RouteConfig } from '../config/schema.js';
import type { ParitySnapshot } from './figures.js';
import type { ParityStore } from './store.js';

/** A route's parity as the deciders judge it (cumulative since the figures began). */
export type ParityEvidence = Pick<ParitySnapshot, 'compared' | 'matched' | 'mismatched' | 'differences' | 'noise'>;

/** A route's parity now, or undefined when it has none (no shadow). */
export type ParitySource = (route: string) => ParityEvidence | undefined;

/**
 * Whether a route's parity is evidence: it shadows a share of its requests now (the share set at
 * run time, PUT /api/v1/shadow, else the config's). A shadow at 0 % (only compare rules, for
 * `cutover parity`, or turned off) makes no comparisons, and must not hold a ramp forever.
 */
export function shadows(r: Pick<RouteConfig, 'name' | 'shadow'>, control?: { shadowPercent(route: string): number | undefined }): boolean {
  if (r.shadow === undefined) return false;
  return (control?.shadowPercent(r.name) ?? r.shadow.percent ?? 0) > 0;
}

/** The figures of this process's shadow taps (counts only: no samples, no histograms). */
export function storeSource(store: ParityStore): ParitySource {
  return (route) => (store.names().includes(route) ? store.route(route).figures.totals() : undefined);
}

/** The parity of several processes as one: counts and path tables add up. */
export function sumEvidence(all: readonly ParityEvidence[]): ParityEvidence | undefined {
  if (all.length === 0) return undefined;
  const out: ParityEvidence = { compared: 0, matched: 0, mismatched: 0, differences: {}, noise: {} };
  for (const e of all) {
    out.compared += e.compared;
    out.matched += e.matched;
    out.mismatched += e.mismatched;
    for (const [p, n] of Object.entries(e.differences ?? {})) out.differences[p] = (out.differences[p] ?? 0) + n;
    for (const [p, n] of Object.entries(e.noise ?? {})) out.noise[p] = (out.noise[p] ?? 0) + n;
  }
  return out;
}

/** A plain copy, as a snapshot carries it across processes. */
export function evidenceOf(e: ParityEvidence): ParityEvidence {
  return { compared: e.compared, matched: e.matched, mismatched: e.mismatched, differences: { ...e.differences }, noise: { ...e.noise } };
}

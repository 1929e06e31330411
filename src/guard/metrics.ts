// The guard's metrics: reverts, breaches, dry-run would-reverts, shared outages, how long an
// evaluation took, and the state of every route.
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../metrics/metrics.js';

export const GUARD_STATES = ['disabled', 'idle', 'insufficient-data', 'healthy', 'breaching', 'shared-outage', 'reverted'] as const;
export type GuardStateName = (typeof GUARD_STATES)[number];

export interface GuardMetrics {
  reverts: Counter<string>;
  breaches: Counter<string>;
  wouldRevert: Counter<string>;
  sharedOutages: Counter<string>;
  evaluationSeconds: Gauge<string>;
}

/** Register the guard's metrics; `states` is read at every scrape. */
export function guardMetrics(m: Metrics, states: () => Array<[string, GuardStateName]>): GuardMetrics {
  const out: GuardMetrics = {
    reverts: m.counter('cutover_guard_reverts_total', 'Reverts to legacy the guard made, by route and rule.', ['route', 'rule']),
    breaches: m.counter('cutover_guard_breaches_total', 'Breaches the guard detected (held for `consecutive` evaluations), dry runs included.', ['route', 'rule', 'dry_run']),
    wouldRevert: m.counter('cutover_guard_would_revert_total', 'Reverts a dry-run guard would have made, by route and rule.', ['route', 'rule']),
    sharedOutages: m.counter('cutover_guard_shared_outages_total', "Breaches legacy showed too (not the candidate's fault; not reverted unless revertOnSharedOutage), by route and rule.", ['route', 'rule']),
    evaluationSeconds: m.gauge('cutover_guard_evaluation_seconds', 'How long the last evaluation of every route took.', []),
  };
  m.gauge('cutover_guard_state', 'Guard state per route: 1 for the current state, 0 for the others.', ['route', 'state'], (g: Gauge<string>) => {
    g.reset();
    for (const [route, current] of states()) for (const s of GUARD_STATES) g.set({ route, state: s }, s === current ? 1 : 0);
  });
  return out;
}

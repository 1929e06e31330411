// What GET /api/v1/guard and `cutover status` show of the guard: its settings, its recent
// observations and each route's state, streak, last verdict and latch. Pure formatting.
import type { GuardConfig } from '../config/schema.js';
import type { GuardLatch } from '../state/types.js';
import type { RouteGuardState, RoutePolicy, Verdict } from './policy.js';

/** A guard observation that is not a decision (insufficient data began or ended), kept apart from history. */
export interface Observation {
  time: string;
  route: string;
  event: string;
  summary: string;
}

/** Observations kept for the status. */
export const OBSERVATIONS_KEPT = 50;

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function verdictView(v: Verdict) {
  return { ...v, at: iso(v.at) };
}

export function guardStatus(input: {
  config: GuardConfig;
  mode: 'local' | 'merged' | 'follower';
  observations: Observation[];
  routes: Array<{ name: string; policy: RoutePolicy | undefined; state: string; guard: RouteGuardState | undefined }>;
  control: { latch(route: string): GuardLatch | undefined; percent(route: string): number | undefined };
  now: number;
}) {
  const g = input.config;
  const route = (r: (typeof input.routes)[number]) => {
    const s = r.guard;
    const latch = input.control.latch(r.name) ?? null;
    const lastChange = latch ? Date.parse(latch.since) : s?.lastChange;
    return {
      state: r.state,
      policy: r.policy,
      candidatePercent: input.control.percent(r.name) ?? 0,
      streak: s?.streak ?? 0,
      insufficientSince: s?.insufficientSince ? iso(s.insufficientSince) : null,
      lastVerdict: s?.lastVerdict ? verdictView(s.lastVerdict) : null,
      latch,
      lastChange: lastChange === undefined ? null : iso(lastChange),
      secondsSinceChange: lastChange === undefined ? null : Math.round((input.now - lastChange) / 1000),
    };
  };
  return {
    enabled: g.enabled,
    judging: input.mode,
    dryRun: g.dryRun,
    scope: g.scope,
    intervalMs: g.intervalMs,
    windowSeconds: g.windowSeconds,
    fastWindowSeconds: g.fastWindowSeconds,
    minRequests: g.minRequests,
    confidence: g.confidence,
    consecutive: g.consecutive,
    revertOnSharedOutage: g.revertOnSharedOutage,
    rules: g.rules,
    observations: input.observations,
    routes: Object.fromEntries(input.routes.map((r) => [r.name, route(r)])),
  };
}

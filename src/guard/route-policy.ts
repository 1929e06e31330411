// A route's guard policy: the global guard settings with the route's overrides applied. Pure.
import type { GuardConfig, RouteConfig } from '../config/schema.js';
import type { RoutePolicy } from './policy.js';

export function routePolicy(g: GuardConfig, r: RouteConfig): RoutePolicy {
  const o = r.guard ?? {};
  const rule = <K extends keyof GuardConfig['rules']>(k: K): number | null => {
    const v = o.rules?.[k];
    return v === undefined ? (g.rules[k] ?? null) : v; // an explicit null turns the rule off for this route
  };
  return {
    enabled: g.enabled && (o.enabled ?? true),
    minRequests: o.minRequests ?? g.minRequests,
    consecutive: o.consecutive ?? g.consecutive,
    dryRun: o.dryRun ?? g.dryRun,
    confidence: o.confidence ?? g.confidence,
    revertOnSharedOutage: g.revertOnSharedOutage,
    rules: {
      maxErrorRate: rule('maxErrorRate'),
      maxP99Ms: rule('maxP99Ms'),
      maxP99Ratio: rule('maxP99Ratio'),
      maxErrorRateDelta: rule('maxErrorRateDelta'),
      maxMismatchRate: rule('maxMismatchRate'),
    },
  };
}

// What the recording side needs from the guard's config, pure: per route and backend, what counts
// as slow, and how long an upstream request is watched after its client gave up before any
// response (to learn whether it hung). The wiring applies it to the stats (Stats.setThresholds)
// at start-up and on every reload, in every process that records (workers included).
import type { Config } from '../config/schema.js';
import type { RecordingThresholds } from '../stats/store.js';
import { routePolicy } from './route-policy.js';
import { windowsToJudge } from './policy.js';
import type { WireSpec } from './wire.js';

/** An abandoned request is watched a little past the threshold, so that it is judged slow (or timed out) for sure. */
export const WATCH_MARGIN_MS = 100;

export function recordingThresholds(config: Config): RecordingThresholds {
  const out: RecordingThresholds = {};
  for (const r of config.routes) {
    const p = routePolicy(config.guard, r);
    const judging = config.guard.enabled && p.enabled;
    const slowMs = judging ? p.rules.maxP99Ms : null;
    const of = (b: 'legacy' | 'candidate') => ({
      slowUs: slowMs === null ? Infinity : slowMs * 1000,
      watchAbortedMs: judging ? Math.min(slowMs ?? Infinity, config.backends[b].timeouts.responseMs) + WATCH_MARGIN_MS : 0,
    });
    out[r.name] = { legacy: of('legacy'), candidate: of('candidate') };
  }
  return out;
}

/** What a recording process reports for the guard: the judged routes with their windows and policies. */
export function wireSpec(config: Config): WireSpec {
  const g = config.guard;
  const windows = windowsToJudge(g.windowSeconds, g.fastWindowSeconds);
  return {
    routes: g.enabled ? config.routes.flatMap((r) => { const policy = routePolicy(g, r); return policy.enabled ? [{ name: r.name, windows, policy, shadows: r.shadow !== undefined }] : []; }) : [],
    timeouts: { legacy: config.backends.legacy.timeouts.responseMs, candidate: config.backends.candidate.timeouts.responseMs },
  };
}

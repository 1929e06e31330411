// What the dashboard shows of the data plane once a second: a process's own figures read
// straight from its series, or (with workers) the merged figures of GET /api/v1/status, cut to
// what the page draws.
import type { Stats } from '../stats/store.js';
import type { AdminDeps } from './deps.js';

/** What the page shows of one backend: its window figures, without the encoded histogram. */
export interface LiveBackend {
  window: { requests: number; errorRate: number; errors: Record<string, number>; latencyMs: { count: number; p50: number; p90: number; p99: number } };
  /** Requests in the last whole second; absent when only cumulative totals are known (then the hub takes differences). */
  lastSecond?: number;
  cumulative?: { requests: number };
}

/** The data plane as the dashboard needs it, once a second. */
export interface LiveView {
  windowSeconds: number;
  inFlight: number;
  nodes: unknown;
  workers?: unknown;
  routes: Record<string, { legacy: LiveBackend; candidate: LiveBackend }>;
}

/**
 * A process's own figures read straight from its series: window counters and the window's merged
 * histogram, and the last whole second's count, with no HDR encoding (GET /api/v1/status encodes
 * every histogram for merging; that was most of the cost of a snapshot a second).
 */
export function liveFromStats(stats: Stats, routes: readonly string[], rest: { inFlight: number; nodes: unknown }): LiveView {
  const now = stats.clock();
  const out: LiveView['routes'] = {};
  for (const name of routes) {
    const series = stats.route(name);
    const side = (b: 'legacy' | 'candidate'): LiveBackend => {
      const w = series[b].windowCounters(now, stats.windowSeconds, true);
      const c = w.counters;
      const h = w.histogram!;
      const transport = c.refused + c.reset + c.timeout + c.other;
      const judged = c.requests - c.unjudged;
      const at = (p: number) => (h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / 1000);
      // Slices are whole seconds: the last two minus the current one is the last complete second.
      const lastSecond = series[b].windowCounters(now, 2).counters.requests - series[b].windowCounters(now, 1).counters.requests;
      return {
        window: {
          requests: c.requests,
          errorRate: judged === 0 ? 0 : (c.status[4] + transport) / judged,
          errors: { status5xx: c.status[4], refused: c.refused, reset: c.reset, timeout: c.timeout, other: c.other },
          latencyMs: { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99) },
        },
        lastSecond,
      };
    };
    out[name] = { legacy: side('legacy'), candidate: side('candidate') };
  }
  return { windowSeconds: stats.windowSeconds, ...rest, routes: out };
}

/** With workers the figures come merged from them (GET /api/v1/status's): keep what the page shows. */
export function fromDataPlane(d: Awaited<ReturnType<AdminDeps['dataPlane']>>): LiveView {
  const side = (b: { window: LiveBackend['window']; cumulative: { requests: number } }): LiveBackend => ({
    window: { requests: b.window.requests, errorRate: b.window.errorRate, errors: b.window.errors, latencyMs: { count: b.window.latencyMs.count, p50: b.window.latencyMs.p50, p90: b.window.latencyMs.p90, p99: b.window.latencyMs.p99 } },
    cumulative: { requests: b.cumulative.requests },
  });
  const routes: LiveView['routes'] = {};
  for (const [name, r] of Object.entries(d.routes)) routes[name] = { legacy: side(r.legacy), candidate: side(r.candidate) };
  return { windowSeconds: d.windowSeconds, inFlight: d.inFlight, nodes: d.nodes, workers: d.workers, routes };
}

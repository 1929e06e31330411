// What the primary shows of its workers: their status figures merged exactly (counters add up,
// histograms merge: mergeSnapshots), and their metrics aggregated with the primary's own
// (prom-client's AggregatorRegistry, each metric by its aggregator: counters summed, the control
// plane's gauges taken once). Pure apart from the AggregatorRegistry call.
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { DataPlaneView } from '../admin/deps.js';
import { BACKENDS } from '../config/schema.js';
import { mergeSnapshots } from '../stats/snapshot.js';
import type { BackendStats, RouteStats } from '../stats/store.js';
import type { Answers } from './messages.js';
import type { Member } from './pool.js';

export function mergeRouteStats(all: readonly RouteStats[]): RouteStats {
  const both = (pick: (r: RouteStats) => BackendStats): BackendStats => ({
    window: mergeSnapshots(all.map((r) => pick(r).window)),
    cumulative: mergeSnapshots(all.map((r) => pick(r).cumulative)),
  });
  const out = { forced: {} } as RouteStats;
  for (const b of BACKENDS) {
    out[b] = both((r) => r[b]);
    out.forced[b] = both((r) => r.forced[b]);
  }
  return out;
}

/**
 * The workers' data plane as one: figures merged per route, in flight summed. `nodes` is the
 * first worker's (each worker judges node health on its own traffic: workers[].nodes has them all).
 */
export function mergeDataPlane(
  answers: ReadonlyArray<{ member: Member; value?: Answers['data-plane']; error?: string }>,
  routes: readonly string[],
  windowSeconds: number,
  now = Date.now(),
): DataPlaneView {
  const got = answers.flatMap((a) => (a.value ? [a.value] : []));
  return {
    windowSeconds,
    inFlight: got.reduce((n, v) => n + v.inFlight, 0),
    routes: Object.fromEntries(routes.map((r) => [r, mergeRouteStats(got.flatMap((v) => (v.routes[r] ? [v.routes[r]] : [])))])),
    nodes: got[0]?.nodes ?? null,
    discovery: got[0]?.discovery ?? null,
    workers: answers.map(({ member: m, value, error }) => ({
      id: m.id,
      pid: m.pid,
      state: m.state,
      uptimeSeconds: Math.round((now - m.startedAt) / 1000),
      lastReportAgeMs: m.lastReportAt === undefined ? null : now - m.lastReportAt,
      served: value?.served ?? m.served,
      inFlight: value?.inFlight ?? m.inFlight,
      nodes: value?.nodes ?? null,
      ...(error === undefined ? {} : { error }),
    })),
  };
}

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** The Prometheus text of the primary's metrics and every worker's, aggregated. */
export async function aggregateMetrics(own: MetricsJson, workers: readonly MetricsJson[]): Promise<string> {
  return AggregatorRegistry.aggregate([own, ...workers]).metrics();
}

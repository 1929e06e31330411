// What the primary shows of its workers: their reports merged exactly (counters add up,
// histograms merge: mergeSnapshots, parity figures merge: mergeParity), as the status view and as
// the figures the metrics read. Pure.
import type { DataPlaneView } from '../admin/deps.js';
import { BACKENDS } from '../config/names.js';
import type { DataPlaneFigures, SeriesRow } from '../metrics/port.js';
import { mergeParity, type ParitySnapshot } from '../parity/figures.js';
import { addNodeEvents } from '../proxy/node-health.js';
import { mergeLoopDelay } from '../stats/loop-delay.js';
import { mergeSnapshots, mergeViews } from '../stats/snapshot.js';
import type { BackendStats, RouteStats } from '../stats/store.js';
import type { Answers } from './messages.js';
import type { Member } from './pool.js';

export type Reports = ReadonlyArray<{ member: Member; value?: Answers['data-plane']; error?: string }>;

const got = (answers: Reports) => answers.flatMap((a) => (a.value ? [a.value] : []));

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
export function mergeDataPlane(answers: Reports, routes: readonly string[], windowSeconds: number, now = Date.now()): DataPlaneView {
  const views = got(answers);
  return {
    windowSeconds,
    inFlight: views.reduce((n, v) => n + v.inFlight, 0),
    routes: Object.fromEntries(routes.map((r) => [r, mergeRouteStats(views.flatMap((v) => (v.routes[r] ? [v.routes[r]] : [])))])),
    nodes: views[0]?.nodes ?? null,
    discovery: views[0]?.discovery ?? null,
    workers: answers.map(({ member: m, value, error }) => ({
      id: m.id,
      pid: m.pid,
      state: m.state,
      uptimeSeconds: Math.round((now - m.startedAt) / 1000),
      lastReportAgeMs: m.lastReportAt === undefined ? null : now - m.lastReportAt,
      served: value?.served ?? m.served,
      inFlight: value?.inFlight ?? m.inFlight,
      nodes: value?.nodes ?? null,
      ...(value ? { rssBytes: value.process.rssBytes, cpuSeconds: value.process.cpuMicros / 1e6, loopDelay: value.loopDelay } : {}),
      ...(error === undefined ? {} : { error }),
    })),
  };
}

/** Every worker's parity figures, merged per route. */
export function mergeWorkerParity(answers: Reports): Record<string, ParitySnapshot> {
  const byRoute = new Map<string, ParitySnapshot[]>();
  for (const v of got(answers)) for (const [route, s] of Object.entries(v.parity)) byRoute.set(route, [...(byRoute.get(route) ?? []), s]);
  return Object.fromEntries([...byRoute].map(([route, all]) => [route, mergeParity(all)]));
}

/** The figures the metrics read, from every worker's report: exact merges, never sums of percentiles. */
export function mergeFigures(answers: Reports, windowSeconds: number): DataPlaneFigures {
  const views = got(answers);
  const routes = [...new Set(views.flatMap((v) => Object.keys(v.routes)))];
  const series: SeriesRow[] = [];
  for (const route of routes) {
    const all = views.flatMap((v) => (v.routes[route] ? [v.routes[route]] : []));
    for (const backend of BACKENDS) {
      for (const forced of [false, true]) {
        const pick = (r: RouteStats) => (forced ? r.forced[backend] : r[backend]);
        series.push({ route, backend, forced, cumulative: mergeViews(all.map((r) => pick(r).cumulative)), window: mergeViews(all.map((r) => pick(r).window)) });
      }
    }
  }
  const answered = new Map<string, [string, number, number]>();
  for (const v of views) {
    for (const [route, status, n] of v.answered) {
      const key = `${route}\0${status}`;
      const row = answered.get(key);
      if (row) row[2] += n;
      else answered.set(key, [route, status, n]);
    }
  }
  return {
    windowSeconds,
    series,
    answered: [...answered.values()],
    inFlight: views.reduce((n, v) => n + v.inFlight, 0),
    nodes: views.map((v) => v.nodes as DataPlaneFigures['nodes'][number]),
    discovery: views.map((v) => v.discovery as DataPlaneFigures['discovery'][number]),
    events: addNodeEvents(views.map((v) => v.events)),
    parity: mergeWorkerParity(answers),
    workers: answers.flatMap(({ member, value }) => (value ? [{ id: member.id, process: value.process }] : [])),
    loopDelay: mergeLoopDelay(views.map((v) => v.loopDelay)),
  };
}

// The guard's figures as plain data that travels between processes (workers to their primary,
// replicas to the fleet's leader) and merges exactly: counters add up, histograms merge, the ages
// of requests in flight are concatenated and aged by the time since the snapshot. Pure.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { BackendName } from '../config/names.js';
import { evidenceOf, sumEvidence, type ParityEvidence, type ParitySource } from '../parity/source.js';
import { distributionOf, readWindows } from './figures.js';
import type { RoutePolicy } from './policy.js';
import type { Stats } from '../stats/store.js';
import type { Figures, WindowFigures } from './rules.js';
import { newHistogram } from '../stats/series.js';
import type { Snapshot } from '../stats/snapshot.js';

export interface WireFigures {
  requests: number;
  errors: number;
  timed: number;
  slow: number;
  /** HdrHistogram compressed base64 (µs), only when a relative latency rule needs it. */
  histogram?: string;
}

export interface WireRoute {
  /** The windows judged (seconds), longest first; the figures are in the same order. */
  windows: number[];
  legacy: WireFigures[];
  candidate: WireFigures[];
  inFlightMs: Record<BackendName, number[]>;
  timeoutMs: Record<BackendName, number>;
  /**
   * The route's parity counts (cumulative) when it shadows, so that the leader judges
   * maxMismatchRate on every replica's comparisons. Optional: older replicas do not send it.
   */
  parity?: ParityEvidence;
}

export interface GuardSnapshot {
  replica: string;
  /** Wall-clock ms when it was taken. */
  at: number;
  leader: boolean;
  /** Requests this replica has served since it started (for the fleet status). */
  requests: number;
  routes: Record<string, WireRoute>;
  /** Cumulative totals of the routes whose ramp is under way (the leader judges a hold on them). */
  totals?: Record<string, RouteTotals>;
}

/** A route's cumulative snapshots of both backends (what a ramp's hold is judged on). */
export interface RouteTotals {
  legacy: Snapshot;
  candidate: Snapshot;
}

export function toWire(f: Figures, histogram?: Histogram): WireFigures {
  const w: WireFigures = { requests: f.requests, errors: f.errors, timed: f.timed, slow: f.slow };
  if (histogram && histogram.totalCount > 0) w.histogram = hdr.encodeIntoCompressedBase64(histogram);
  return w;
}

/** What the guard judges, compiled from the config (guard/thresholds.ts): the routes it judges, their windows and policies. */
export interface WireSpec {
  /** `shadows`: the route's shadow copies something, so its parity counts are evidence (parity/source.ts shadows). */
  routes: Array<{ name: string; windows: number[]; policy: RoutePolicy; shadows?: boolean }>;
  timeouts: Record<BackendName, number>;
}

/**
 * A process's figures of every judged route, read from its series, as plain data; with `parity`,
 * the comparison counts of the routes that shadow (spec.routes[].shadows) too.
 */
export function wireRoutes(stats: Stats, spec: WireSpec, parity?: ParitySource): Record<string, WireRoute> {
  const out: Record<string, WireRoute> = {};
  const now = stats.clock();
  for (const { name, windows, policy, shadows } of spec.routes) {
    const ws = readWindows(stats.route(name), now, windows, policy, spec.timeouts);
    out[name] = {
      windows: ws.map((w) => w.seconds),
      legacy: ws.map((w) => toWire(w.legacy, w.histograms.legacy)),
      candidate: ws.map((w) => toWire(w.candidate, w.histograms.candidate)),
      inFlightMs: { legacy: ws[0]?.legacy.inFlightMs.slice() ?? [], candidate: ws[0]?.candidate.inFlightMs.slice() ?? [] },
      timeoutMs: { ...spec.timeouts },
    };
    const p = shadows ? parity?.(name) : undefined;
    if (p) out[name].parity = evidenceOf(p);
  }
  return out;
}

export interface Merged {
  /** Per route, the windows as the guard judges them. */
  routes: Map<string, WindowFigures[]>;
  /** Per route that shadows somewhere, the comparisons of every fresh replica added up. */
  parity: Map<string, ParityEvidence>;
  /** Replicas whose snapshot was used, and those left out because it was too old. */
  fresh: string[];
  stale: Array<{ replica: string; ageMs: number }>;
}

/**
 * Merge the snapshots of every replica (or worker) taken within `maxAgeMs` of `now`. Windows are
 * matched by position (long, short); if replicas disagree on a window's length (one saw a re-arm
 * a moment later), the shorter one is used.
 */
export function mergeGuardSnapshots(snaps: readonly GuardSnapshot[], now: number, maxAgeMs: number): Merged {
  const { acc, fresh, stale } = accumulate(snaps, now, maxAgeMs);
  const out: Merged = { routes: new Map(), parity: new Map(), fresh, stale };
  for (const [route, a] of acc) {
    const parity = sumEvidence(a.parity);
    if (parity) out.parity.set(route, parity);
    const fig = (b: BackendName, i: number): Figures => {
      const x = a[b][i] ?? { requests: 0, errors: 0, timed: 0, slow: 0, histogram: undefined };
      return { requests: x.requests, errors: x.errors, timed: x.timed, slow: x.slow, inFlightMs: a.inFlight[b], timeoutMs: a.timeoutMs[b], latency: x.histogram && distributionOf(x.histogram) };
    };
    out.routes.set(
      route,
      a.windows.map((seconds, i) => ({ seconds, legacy: fig('legacy', i), candidate: fig('candidate', i) })),
    );
  }
  return out;
}

/**
 * The same merge, kept as plain data: what a cluster's primary publishes to the fleet for all of
 * its workers, as one replica. The ages of requests in flight are as of `now`.
 */
export function combineWire(snaps: readonly GuardSnapshot[], now: number, maxAgeMs: number): Record<string, WireRoute> {
  const out: Record<string, WireRoute> = {};
  for (const [route, a] of accumulate(snaps, now, maxAgeMs).acc) {
    const wire = (x: Acc | undefined): WireFigures => {
      const w: WireFigures = { requests: x?.requests ?? 0, errors: x?.errors ?? 0, timed: x?.timed ?? 0, slow: x?.slow ?? 0 };
      if (x?.histogram && x.histogram.totalCount > 0) w.histogram = hdr.encodeIntoCompressedBase64(x.histogram);
      return w;
    };
    out[route] = {
      windows: a.windows,
      legacy: a.windows.map((_, i) => wire(a.legacy[i])),
      candidate: a.windows.map((_, i) => wire(a.candidate[i])),
      inFlightMs: a.inFlight,
      timeoutMs: a.timeoutMs,
    };
    const parity = sumEvidence(a.parity);
    if (parity) out[route].parity = parity;
  }
  return out;
}

interface RouteAcc {
  windows: number[];
  legacy: Acc[];
  candidate: Acc[];
  inFlight: Record<BackendName, number[]>;
  timeoutMs: Record<BackendName, number>;
  parity: ParityEvidence[];
}

function accumulate(snaps: readonly GuardSnapshot[], now: number, maxAgeMs: number) {
  const fresh: string[] = [];
  const stale: Array<{ replica: string; ageMs: number }> = [];
  const acc = new Map<string, RouteAcc>();
  for (const s of snaps) {
    const age = now - s.at;
    if (age > maxAgeMs) {
      stale.push({ replica: s.replica, ageMs: age });
      continue;
    }
    fresh.push(s.replica);
    for (const [route, r] of Object.entries(s.routes)) {
      let a = acc.get(route);
      if (!a) {
        a = { windows: [...r.windows], legacy: [], candidate: [], inFlight: { legacy: [], candidate: [] }, timeoutMs: r.timeoutMs, parity: [] };
        acc.set(route, a);
      }
      if (r.parity) a.parity.push(r.parity);
      r.windows.forEach((w, i) => (a.windows[i] = Math.min(a.windows[i] ?? w, w)));
      for (const b of ['legacy', 'candidate'] as const) {
        r[b].forEach((f, i) => (a[b][i] = add(a[b][i], f)));
        // The ages were read at `s.at`: they are older now.
        for (const ms of r.inFlightMs[b]) a.inFlight[b].push(ms + Math.max(0, age));
      }
    }
  }
  for (const a of acc.values()) for (const b of ['legacy', 'candidate'] as const) a.inFlight[b].sort((x, y) => y - x);
  return { acc, fresh, stale };
}

interface Acc {
  requests: number;
  errors: number;
  timed: number;
  slow: number;
  histogram: Histogram | undefined;
}

function add(a: Acc | undefined, f: WireFigures): Acc {
  const out = a ?? { requests: 0, errors: 0, timed: 0, slow: 0, histogram: undefined };
  out.requests += f.requests;
  out.errors += f.errors;
  out.timed += f.timed;
  out.slow += f.slow;
  if (f.histogram) (out.histogram ??= newHistogram()).add(hdr.decodeFromCompressedBase64(f.histogram, 32, false));
  return out;
}

// All series, per (route, backend). The proxy holds direct references to its route's series,
// so the request path never looks anything up here.
import type { BackendName } from '../config/schema.js';
import { Series, type SeriesView } from './series.js';
import { toSnapshot, type Snapshot } from './snapshot.js';

export type Clock = () => number;
/**
 * The series of one route: what the split sent to each backend, and apart from it what the
 * override header forced there (testers' traffic, never part of the guard's figures).
 */
export type RouteSeries = Record<BackendName, Series> & { readonly forced: Record<BackendName, Series> };

export interface BackendStats {
  window: Snapshot;
  cumulative: Snapshot;
}

/** One route's figures: both backends, and apart from them what the override header forced. */
export type RouteStats = Record<BackendName, BackendStats> & { forced: Record<BackendName, BackendStats> };

/** What the recording side of one series needs to know (guard/thresholds.ts derives it from the config). */
export interface SeriesThresholds {
  /** Latency (µs) above which a request counts as slow. */
  slowUs: number;
  /** How long (ms) an upstream request is watched after its client gave up (0: aborted at once). */
  watchAbortedMs: number;
}
export type RecordingThresholds = Record<string, Record<BackendName, SeriesThresholds>>;

export class Stats {
  private readonly routes = new Map<string, RouteSeries>();

  /**
   * @param windowSeconds the default window for snapshots
   * @param retainSeconds the longest window anyone may ask for (at least windowSeconds)
   * @param clock monotonic milliseconds; injected for tests
   */
  constructor(
    readonly windowSeconds: number,
    private readonly retainSeconds = windowSeconds,
    readonly clock: Clock = () => performance.now(),
  ) {}

  /** The series of a route, created on first use and kept across config reloads. */
  route(name: string): RouteSeries {
    let s = this.routes.get(name);
    if (!s) {
      const retain = Math.max(this.windowSeconds, this.retainSeconds);
      s = { legacy: new Series(retain), candidate: new Series(retain), forced: { legacy: new Series(retain), candidate: new Series(retain) } };
      // The window every snapshot and scrape reads, kept from the start (see Series.keepWindow).
      for (const series of [s.legacy, s.candidate, s.forced.legacy, s.forced.candidate]) series.keepWindow(this.windowSeconds);
      this.routes.set(name, s);
    }
    return s;
  }

  /**
   * Answers cutover gave without any backend (maintenance, no route, a request it refused), by
   * route ('' when none matched) and status. Only these paths count here, never a proxied one.
   */
  readonly answered = new Map<string, Map<number, number>>();

  /** The answers as rows [route, status, count], plain data for the metrics and a worker's report. */
  answeredRows(): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    for (const [route, byStatus] of this.answered) for (const [status, n] of byStatus) out.push([route, status, n]);
    return out;
  }

  answer(route: string, status: number): void {
    let m = this.answered.get(route);
    if (!m) this.answered.set(route, (m = new Map()));
    m.set(status, (m.get(status) ?? 0) + 1);
  }

  /** Apply recording thresholds to the series of every route they name (the forced series keep theirs). */
  setThresholds(t: RecordingThresholds): void {
    for (const [route, both] of Object.entries(t)) {
      const s = this.route(route);
      for (const b of ['legacy', 'candidate'] as const) {
        s[b].slowUs = both[b].slowUs;
        s[b].watchAbortedMs = both[b].watchAbortedMs;
      }
    }
  }

  /** A re-arm: from now on only requests that start later count in the route's series (Series.rearm). */
  rearm(route: string): void {
    const s = this.route(route);
    const now = this.clock();
    s.legacy.rearm(now);
    s.candidate.rearm(now);
  }

  /** Forget routes that no longer exist. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.routes.keys()) if (!names.has(name)) this.routes.delete(name);
  }

  routeNames(): string[] {
    return [...this.routes.keys()];
  }

  /** Window snapshot of one series over `seconds` (default: the configured window). */
  window(route: string, backend: BackendName, seconds = this.windowSeconds): Snapshot {
    return toSnapshot(this.route(route)[backend].window(this.clock(), seconds));
  }

  /** Raw cumulative and window views of every series (for /metrics); forced series included, marked. */
  views(): Array<{ route: string; backend: BackendName; forced: boolean; cumulative: SeriesView; window: SeriesView }> {
    const now = this.clock();
    const out = [];
    for (const [route, s] of this.routes) {
      for (const backend of ['legacy', 'candidate'] as const) {
        out.push({ route, backend, forced: false, cumulative: s[backend].cumulative(now), window: s[backend].window(now, this.windowSeconds) });
        out.push({ route, backend, forced: true, cumulative: s.forced[backend].cumulative(now), window: s.forced[backend].window(now, this.windowSeconds) });
      }
    }
    return out;
  }

  /**
   * Requests the split sent to each backend since this process started (forced ones left out),
   * from the counters alone: what a worker reports every guard interval and the fleet publishes.
   * (views() for this merges every series' histograms: 2-25 ms a call under load.)
   */
  served(): Record<BackendName, number> {
    const now = this.clock();
    const out = { legacy: 0, candidate: 0 };
    for (const s of this.routes.values()) {
      out.legacy += s.legacy.cumulativeRequests(now);
      out.candidate += s.candidate.cumulativeRequests(now);
    }
    return out;
  }

  /** The raw window view of one series (no encoding): for the guard, every interval. */
  windowView(route: string, backend: BackendName, seconds: number): SeriesView {
    return this.route(route)[backend].window(this.clock(), seconds);
  }

  /** The cumulative snapshots of both backends of one route (a ramp's hold is judged on them): no window encoded. */
  totals(route: string): { legacy: Snapshot; candidate: Snapshot } {
    const now = this.clock();
    const s = this.route(route);
    return { legacy: toSnapshot(s.legacy.cumulative(now)), candidate: toSnapshot(s.candidate.cumulative(now)) };
  }

  /** Window and cumulative snapshots of both backends of one route, and of the forced requests. */
  routeSnapshot(route: string): RouteStats {
    const now = this.clock();
    const s = this.route(route);
    const both = (series: Series): BackendStats => ({
      window: toSnapshot(series.window(now, this.windowSeconds)),
      cumulative: toSnapshot(series.cumulative(now)),
    });
    return { legacy: both(s.legacy), candidate: both(s.candidate), forced: { legacy: both(s.forced.legacy), candidate: both(s.forced.candidate) } };
  }
}

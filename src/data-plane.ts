// The data plane, whole: the proxy with its routing table, the stats it records into, the shadow
// taps' parity figures and the node events. One process builds it beside its control plane
// (app.ts); a worker builds nothing else (workers/worker.ts). It is configured by a spec the
// control plane compiles (DataPlaneSpec: the config already validated, secrets already read, the
// guard's recording thresholds), so that building it loads neither the config tooling nor the
// guard. It answers with plain data: the status view, the raw figures for the metrics, the
// guard's wire figures.
import type { AddressInfo } from 'node:net';
import type { DataPlaneView } from './admin/deps.js';
import type { Config } from './config/schema.js';
import type { Control } from './control/control.js';
import { wireRoutes, type WireSpec } from './guard/wire.js';
import type { WireRoute } from './fleet/snapshots.js';
import type { LogSink } from './log-lite.js';
import { seriesFigures, type DataPlaneFigures } from './metrics/port.js';
import type { ParitySnapshot } from './parity/figures.js';
import { ParityStore } from './parity/store.js';
import { discoveryReady } from './proxy/discovery.js';
import { clusterDiscovery, nodeEventListener, nodeHealth, noNodeEvents, type NodeEventCounts } from './proxy/node-health.js';
import { compileOverride } from './proxy/override.js';
import type { Resolve } from './proxy/resolver.js';
import { ProxyServer } from './proxy/server.js';
import { buildTable, retiredClusters, type RoutingTable } from './proxy/table.js';
import { LoopDelay, mergeLoopDelay, type LoopDelaySnapshot } from './stats/loop-delay.js';
import { Stats, type RecordingThresholds } from './stats/store.js';
import { storeSource } from './parity/source.js';

/** Everything the data plane is built from, as plain data (a worker gets it over IPC). */
export interface DataPlaneSpec {
  config: Config;
  /** The override header's rule with its secret already read; undefined when it is off. */
  override?: { header: string; token?: string; clients?: string[] };
  /** The guard's slow and watch-aborted thresholds per route (guard/thresholds.ts). */
  thresholds: RecordingThresholds;
  /** What the guard judges: the figures a worker reports every guard interval. */
  wire: WireSpec;
}

/** What a data plane reports besides its status view: the counts the metrics add up. */
export interface DataPlaneReport extends DataPlaneView {
  answered: Array<[string, number, number]>;
  loopDelay: LoopDelaySnapshot;
  events: NodeEventCounts;
  parity: Record<string, ParitySnapshot>;
  served: Served;
}

/** How long one interval of the loop-delay figures lasts: they cover the last 10 to 20 s. */
const LOOP_INTERVAL_MS = 10_000;

/** Requests the split sent to each backend since the process started. */
export type Served = { legacy: number; candidate: number };

export interface DataPlaneOptions {
  spec: DataPlaneSpec;
  /** The control state the proxy reads per request (a worker's is its primary's, applied as it comes). */
  control: Control;
  logger: LogSink;
  /** How discovery resolves names (tests inject one). */
  resolve?: Resolve;
}

export class DataPlane {
  readonly stats: Stats;
  readonly proxy: ProxyServer;
  /** Parity figures of the shadow taps, per route (kept across reloads). */
  readonly parity = new ParityStore();
  readonly events = noNodeEvents();
  spec: DataPlaneSpec;
  private readonly onNodeEvent;
  /** The event loop's delay: the last whole interval kept, the current one filling. */
  private readonly loop = new LoopDelay().start();
  private lastLoop: LoopDelaySnapshot = { p50Ms: 0, p99Ms: 0, maxMs: 0, count: 0 };
  private readonly loopTimer = setInterval(() => (this.lastLoop = this.loop.take()), LOOP_INTERVAL_MS).unref();
  private draining: Promise<{ forced: number }> | undefined;

  constructor(private readonly opts: DataPlaneOptions) {
    const { config } = (this.spec = opts.spec);
    this.stats = new Stats(config.stats.windowSeconds, Math.max(config.stats.windowSeconds, config.guard.windowSeconds));
    this.stats.setThresholds(opts.spec.thresholds);
    this.onNodeEvent = nodeEventListener(opts.logger, this.events);
    this.proxy = new ProxyServer({ table: this.build(opts.spec), control: opts.control, stats: this.stats, logger: opts.logger });
  }

  get config(): Config {
    return this.spec.config;
  }

  get table(): RoutingTable {
    return this.proxy.table;
  }

  private build(spec: DataPlaneSpec, previous?: RoutingTable): RoutingTable {
    const o = spec.override;
    const override = o && compileOverride(o.header, o.token, o.clients);
    return buildTable(spec.config, this.opts.control, this.stats, previous, { override, onNodeEvent: this.onNodeEvent, parity: this.parity, resolve: this.opts.resolve });
  }

  /**
   * A new spec (a reload) for the next request: a new table, stats and splits of removed routes
   * dropped, thresholds; pools the new table no longer uses finish their in-flight requests, then
   * close. Throws (changing nothing) when the table cannot be built.
   */
  apply(spec: DataPlaneSpec): void {
    const names = new Set(spec.config.routes.map((r) => r.name));
    const old = this.proxy.table;
    const table = this.build(spec, old);
    this.opts.control.retainRoutes(names);
    this.stats.retain(names);
    this.stats.setThresholds(spec.thresholds);
    this.proxy.setTable(table);
    this.spec = spec;
    for (const c of retiredClusters(old, table)) void c.close();
  }

  /** Every upstream name resolved (or refused, naming the field: exit 2), then listen. */
  async listen(configFile?: string): Promise<AddressInfo> {
    await discoveryReady(this.proxy.table.clusters, configFile);
    return this.proxy.listen(this.config.listen.host, this.config.listen.port);
  }

  /** What GET /api/v1/status shows of this data plane. */
  view(): DataPlaneView {
    return {
      windowSeconds: this.stats.windowSeconds,
      inFlight: this.proxy.inFlight,
      routes: Object.fromEntries(this.config.routes.map((r) => [r.name, this.stats.routeSnapshot(r.name)])),
      nodes: nodeHealth(this.proxy.table.clusters),
      discovery: clusterDiscovery(this.proxy.table.clusters),
    };
  }

  /** The view with the counts a worker's primary adds up (metrics, parity). */
  report(): DataPlaneReport {
    return { ...this.view(), answered: this.stats.answeredRows(), loopDelay: this.loopDelay(), events: this.events, parity: this.parity.snapshot(), served: this.served() };
  }

  /** The raw figures the metrics read (no encoding): this process's own. */
  figures(): DataPlaneFigures {
    const clusters = this.proxy.table.clusters;
    return {
      ...seriesFigures(this.stats, this.proxy.inFlight),
      nodes: [nodeHealth(clusters)],
      discovery: [clusterDiscovery(clusters)],
      events: this.events,
      parity: this.parity.snapshot(),
      loopDelay: this.loopDelay(),
    };
  }

  /** The event loop's delay over the last 10-20 s (read by anyone, reset by nobody but the interval). */
  loopDelay(): LoopDelaySnapshot {
    return mergeLoopDelay([this.lastLoop, this.loop.snapshot()]);
  }

  /** The guard's figures of every judged route, as plain data for the primary or the fleet. */
  wire(): Record<string, WireRoute> {
    return wireRoutes(this.stats, this.spec.wire, storeSource(this.parity));
  }

  served(): Served {
    return this.stats.served();
  }

  /**
   * Stop taking traffic the way load balancers expect: for `drainMs` keep accepting and serving
   * with `Connection: close` on every response; then the listener closes and in-flight requests
   * get up to `graceMs` to finish. Resolves when none is left.
   */
  drain(drainMs: number, graceMs: number, logger?: LogSink): Promise<{ forced: number }> {
    this.draining ??= this.proxy.drain(drainMs, graceMs, () =>
      logger?.info({ inFlight: this.proxy.inFlight, graceMs }, 'shutdown: not ready, no new connections, finishing in-flight requests'),
    );
    return this.draining;
  }

  /**
   * Stop accepting (in a cluster worker, the other workers take new connections), keep serving
   * the open connections for `drainMs` with `Connection: close` so their clients leave between
   * requests, then close as on shutdown.
   */
  async retire(drainMs: number, graceMs: number): Promise<void> {
    const allClosed = this.proxy.stopAccepting();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
    clearTimeout(timer);
    await this.close(graceMs);
  }

  /** Finish in-flight requests (up to graceMs), end the shadow copies, close the pools. */
  async close(graceMs: number): Promise<{ forced: number }> {
    const { forced } = await this.drain(0, graceMs);
    const { legacy, candidate } = this.proxy.table.clusters;
    this.parity.cancelAll(); // shadow copies: nobody waits for them, nor does shutdown
    clearInterval(this.loopTimer);
    this.loop.close();
    await Promise.all([legacy.close(), candidate.close()]);
    return { forced };
  }
}

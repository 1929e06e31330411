// The one place that creates and wires every component. Returns something you can start and close.
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from './admin/server.js';
import { readOnlyToken } from './admin/access.js';
import { liveFromStats } from './admin/events.js';
import { loadConfigFile } from './config/load.js';
import { effectiveConfig, reloadControl, type ReloadBy, type ReloadResult } from './reload.js';
import type { Config } from './config/schema.js';
import { Control, type Saved } from './control/control.js';
import { rampRules } from './ramp/machine.js';
import { checkPersisted, type PersistedState } from './control/persisted.js';
import { CutoverError } from './errors.js';
import { GuardRunner } from './guard/runner.js';
import { recordingThresholds } from './guard/thresholds.js';
import { RampRunner } from './ramp/runner.js';
import { type Report } from './report/build.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, unscrapedMetrics, type Metrics } from './metrics/metrics.js';
import { ProxyServer } from './proxy/server.js';
import type { NodeEvent } from './proxy/cluster.js';
import { discoveryReady } from './proxy/discovery.js';
import { clusterDiscovery, nodeHealth, nodeHealthReporter } from './proxy/node-health.js';
import { buildTable, retiredClusters, type RoutingTable } from './proxy/table.js';
import { FileStateStore } from './state/file-store.js';
import { Fleet } from './fleet/fleet.js';
import { Stats } from './stats/store.js';
import type { DataPlaneView } from './admin/deps.js';
import { adminToken, checkAdminProtected, fleetConfigured, hostPort, overrideRule, rampTotals, reportOf, requestsServed, stateFilePath, VERSION } from './setup.js';

export type { DataPlaneView } from './admin/deps.js';
export { startupProblems, VERSION } from './setup.js';
import { ParityStore } from './parity/store.js';
import { registerShadowMetrics } from './metrics/shadow.js';


export type { ReloadResult };

export interface AppOptions {
  config: Config;
  /** Absolute path of the config file, when there is one. */
  configFile?: string;
  logger?: Logger;
  /** Ignore the state file and start from the config's percentages. */
  resetState?: boolean;
  /** Admin token; by default CUTOVER_ADMIN_TOKEN or admin.tokenFile. */
  adminToken?: string;
  /** Wall clock for control state and history (tests inject one). */
  clock?: () => number;
  /** This replica's name in a fleet (default: CUTOVER_REPLICA_ID, else host and pid). */
  replica?: string;
  /** How often running ramps are evaluated (ms); tests use a short one. */
  rampIntervalMs?: number;
  /**
   * 'worker': a cluster worker's data plane (src/workers/worker.ts). No state store, no fleet, no
   * admin listener; its control state comes from the primary and its guard only records.
   */
  role?: 'single' | 'worker';
}

export class App {
  readonly logger: Logger;
  readonly stats: Stats;
  readonly control: Control;
  readonly proxy: ProxyServer;
  readonly metrics: Metrics;
  /** Parity figures of the shadow taps, per route (kept across reloads). */
  readonly parity = new ParityStore();
  readonly guard: GuardRunner;
  readonly ramp: RampRunner | undefined;
  readonly admin: FastifyInstance | undefined;
  readonly stateFile: string | undefined;
  config: Config;
  proxyAddress: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;
  readonly startedAt = Date.now();
  private shuttingDown = false;
  /** The first state write, made at start-up. */
  private restored: Promise<Saved> | undefined;
  /** Fleet mode (state.redis): the shared state, the lease, the merged guard. */
  readonly fleet: Fleet | undefined;
  /** Ejections and returns of upstream nodes: logged and counted. */
  private readonly onNodeEvent: (e: NodeEvent) => void;

  constructor(readonly options: AppOptions) {
    const config = (this.config = options.config);
    const worker = options.role === 'worker';
    this.logger = options.logger ?? createLogger(config.log.level);
    const token = worker ? undefined : (options.adminToken ?? adminToken(config, options.configFile));
    if (!worker) checkAdminProtected(config, token);
    this.stats = new Stats(config.stats.windowSeconds, Math.max(config.stats.windowSeconds, config.guard.windowSeconds));
    this.stats.setThresholds(recordingThresholds(config));
    this.stateFile = worker ? undefined : stateFilePath(config, options.configFile);
    const file = this.stateFile ? new FileStateStore<PersistedState>(this.stateFile, checkPersisted) : undefined;
    // Fleet mode: Redis is the truth and the file the replica's local copy; else the file alone.
    this.fleet = !worker && fleetConfigured(config) ? new Fleet({ config, logger: this.logger, file, replica: options.replica }) : undefined;
    // A worker's control state is the primary's, applied as it comes: the primary logs the changes.
    this.control = new Control(config, this.fleet?.store ?? file, worker ? undefined : this.logger, options.clock ?? Date.now, rampRules);
    // One process restores from its file now; a replica reads the shared state in start().
    this.restored = this.fleet ? undefined : this.control.restore({ reset: options.resetState });
    // Metrics first: the clusters report node ejections to them from the first request on.
    this.metrics = createMetrics({ stats: this.stats, control: this.control, inFlight: () => this.proxy.inFlight, version: VERSION, role: worker ? 'worker' : 'single' });
    this.fleet?.attach(this.control, this.metrics);
    registerShadowMetrics(this.metrics.registry, () => this.parity.snapshot());
    this.onNodeEvent = nodeHealthReporter({ logger: this.logger, metrics: this.metrics, clusters: () => this.proxy.table.clusters });
    this.proxy = new ProxyServer({
      table: buildTable(config, this.control, this.stats, undefined, { override: overrideRule(config, options.configFile), onNodeEvent: this.onNodeEvent, parity: this.parity }),
      control: this.control,
      stats: this.stats,
      logger: this.logger,
    });
    this.ramp = worker
      ? undefined
      : new RampRunner(
          {
            stats: this.stats,
            control: this.control,
            logger: this.logger,
            metrics: this.metrics,
            clock: options.clock,
            intervalMs: options.rampIntervalMs,
            acting: () => this.fleet?.mode() !== 'follower',
            // The fleet's leader judges a hold on every replica's traffic.
            totals: (route) => this.fleet?.totals(route),
          },
          config,
        );
    this.guard = new GuardRunner(
      {
        stats: this.stats,
        control: this.control,
        logger: this.logger,
        metrics: worker ? unscrapedMetrics() : this.metrics,
        clock: options.clock,
        source: this.fleet,
        recordOnly: worker,
        breach: this.ramp,
      },
      config,
    );
    this.admin =
      config.admin.enabled && !worker
        ? createAdminServer({
            logger: this.logger,
            token,
            protectMetrics: config.admin.protectMetrics,
            readOnlyToken: readOnlyToken(config, options.configFile, token),
            dashboard: config.admin.dashboard,
            live: () => liveFromStats(this.stats, this.config.routes.map((r) => r.name), { inFlight: this.proxy.inFlight, nodes: nodeHealth(this.proxy.table.clusters) }),
            control: this.control,
            metrics: () => this.metrics.registry.metrics(),
            metricsContentType: this.metrics.registry.contentType,
            inFlight: async () => this.proxy.inFlight,
            dataPlane: async () => this.dataPlaneView(),
            ready: () => !this.shuttingDown,
            info: () => ({ version: VERSION, configFile: options.configFile, stateFile: this.stateFile, startedAt: this.startedAt }),
            routeConfigs: () => this.config.routes,
            guardStatus: () => this.guard.status(),
            ramp: this.ramp,
            report: async () => this.report(),
            fleet: this.fleet ? () => this.fleet!.status() : undefined,
            reload: options.configFile ? (by) => this.reload(by) : undefined,
            parity: this.parity,
          })
        : undefined;
  }

  get table(): RoutingTable {
    return this.proxy.table;
  }

  /** This process's data plane as the admin API shows it (a worker sends it to its primary). */
  dataPlaneView(): DataPlaneView {
    return {
      windowSeconds: this.stats.windowSeconds,
      inFlight: this.proxy.inFlight,
      routes: Object.fromEntries(this.config.routes.map((r) => [r.name, this.stats.routeSnapshot(r.name)])),
      nodes: nodeHealth(this.proxy.table.clusters),
      discovery: clusterDiscovery(this.proxy.table.clusters),
    };
  }

  async start(): Promise<this> {
    // Every name resolved before the first request (or refused, naming the field: exit 2).
    await discoveryReady(this.proxy.table.clusters, this.options.configFile);
    if (this.fleet) {
      // The shared state before the first request: a latched revert stays latched on a new replica.
      const loaded = await this.fleet.connect();
      this.restored = this.control.restore({ reset: this.options.resetState, loaded });
    }
    // Wait for the first write so a state file that cannot be written is reported before traffic
    // flows; the proxy starts anyway (the data plane never waits on the control plane).
    await this.restored;
    if (this.fleet) {
      this.fleet.copyToFile();
      await this.fleet.start(() => ({ routes: this.guard.wireSnapshot(), requests: requestsServed(this.stats), totals: rampTotals(this.control, this.stats) }));
    }
    const { host, port } = this.config.listen;
    this.proxyAddress = await this.proxy.listen(host, port);
    // A worker's listener is the primary's shared socket: the primary says when the proxy listens.
    const listening = this.options.role === 'worker' ? 'worker listening' : 'proxy listening';
    this.logger.info({ address: `http://${hostPort(this.proxyAddress)}`, routes: this.config.routes.length }, listening);
    if (this.admin) {
      try {
        await this.admin.listen({ host: this.config.admin.host, port: this.config.admin.port });
      } catch (err) {
        await this.proxy.close(0);
        throw err;
      }
      this.adminAddress = this.admin.server.address() as AddressInfo;
      this.logger.info({ address: `http://${hostPort(this.adminAddress)}` }, 'admin listening');
    }
    this.guard.start();
    this.ramp?.start();
    return this;
  }

  /** The migration scorecard of every route, from this process's snapshots. */
  report(): Report {
    return reportOf(this.config, this.control, this.dataPlaneView(), this.startedAt);
  }

  /**
   * Stop taking traffic the way load balancers expect: `/readyz` answers 503 at once; for
   * `drainMs` the proxy keeps accepting and serving with `Connection: close` on every response;
   * then the listener closes and in-flight requests get up to `graceMs` to finish. Resolves when
   * none is left. Defaults: shutdownDrainSeconds and shutdownGraceSeconds. Nothing is flushed or
   * closed besides the proxy listener: close() does that, so whoever asks for a drain (the SIGTERM
   * handler today, a cluster primary later) decides when the process ends.
   */
  drain(opts: { drainMs?: number; graceMs?: number } = {}): Promise<{ forced: number }> {
    this.draining ??= this.stopTraffic(opts.drainMs ?? this.config.shutdownDrainSeconds * 1000, opts.graceMs ?? this.config.shutdownGraceSeconds * 1000);
    return this.draining;
  }

  private draining: Promise<{ forced: number }> | undefined;

  private async stopTraffic(drainMs: number, graceMs: number): Promise<{ forced: number }> {
    this.shuttingDown = true;
    if (drainMs > 0) this.logger.info({ drainMs, inFlight: this.proxy.inFlight }, 'drain: not ready; still accepting, every response says Connection: close');
    const { forced } = await this.proxy.drain(drainMs, graceMs, () =>
      this.logger.info({ inFlight: this.proxy.inFlight, graceMs }, 'shutdown: not ready, no new connections, finishing in-flight requests'),
    );
    if (forced > 0) this.logger.warn({ forced, graceMs }, 'shutdown: grace period over, cut requests still in flight');
    return { forced };
  }

  /**
   * Stop accepting, let in-flight requests finish (up to graceMs), flush state, close everything.
   * Without a drain() before it, the listener closes at once (no drain period).
   */
  async close(graceMs = this.config.shutdownGraceSeconds * 1000): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.shutdown(graceMs);
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  /**
   * Drain, then close: stop accepting (in a cluster worker, the other workers take new
   * connections), keep serving the open connections for `drainMs` with `Connection: close` so
   * their clients leave between requests rather than have a connection reset under a request
   * they are sending, then close as on shutdown (idle connections closed, requests in flight get
   * `graceMs`). The drain period is a parameter so that the SIGTERM drain (shutdownDrainSeconds)
   * can share it.
   */
  async retire(drainMs: number, graceMs = this.config.shutdownGraceSeconds * 1000): Promise<void> {
    this.shuttingDown = true;
    const allClosed = this.proxy.stopAccepting();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
    clearTimeout(timer);
    await this.close(graceMs);
  }

  private async shutdown(graceMs: number): Promise<void> {
    await this.drain({ drainMs: 0, graceMs });
    this.guard.stop();
    this.ramp?.stop();
    const { legacy, candidate } = this.proxy.table.clusters;
    this.parity.cancelAll(); // shadow copies: nobody waits for them, nor does shutdown
    await Promise.all([legacy.close(), candidate.close()]);
    await this.control.flush();
    await this.fleet?.close();
    await this.admin?.close();
    await this.guard.close();
    await this.ramp?.close();
    this.metrics.close();
    this.logger.info({ stateFile: this.stateFile }, 'shutdown: done, state flushed');
  }

  /**
   * Re-read the config file and apply it to the next request: routes, backends, timeouts, guard
   * rules. In-flight requests and open connections are untouched; stats of routes that remain are
   * kept. Percentages already set (API, state file) stay unless `applyPercentages`; the file's
   * percentages apply to new routes. An invalid file changes nothing and throws ConfigError.
   */
  async reload(by: ReloadBy): Promise<ReloadResult> {
    if (!this.options.configFile) throw new CutoverError('no_config_file', 'this process was not started from a config file; nothing to reload');
    const { config: next } = loadConfigFile(this.options.configFile);
    const prev = this.config;
    const { effective, warnings } = effectiveConfig(prev, next);
    this.applyDataPlane(effective);
    const result = await reloadControl(this.control, prev, effective, by, warnings, this.stateFile !== undefined);
    this.logger.info({ ...result, changes: undefined, routes: undefined, file: this.options.configFile }, 'config reloaded');
    return result;
  }

  /**
   * The data plane's half of a reload (the one process, or a worker given the primary's config):
   * new tables for the next request, stats and splits of removed routes dropped, guard thresholds,
   * log level; pools the new table no longer uses finish their in-flight requests, then close.
   * Throws (changing nothing) when the config cannot be built, e.g. an unreadable token file.
   */
  applyDataPlane(effective: Config): void {
    const names = new Set(effective.routes.map((r) => r.name));
    const oldTable = this.proxy.table;
    const table = buildTable(effective, this.control, this.stats, oldTable, { override: overrideRule(effective, this.options.configFile), onNodeEvent: this.onNodeEvent, parity: this.parity });
    this.control.retainRoutes(names);
    this.stats.retain(names);
    this.stats.setThresholds(recordingThresholds(effective));
    this.proxy.setTable(table);
    this.config = effective;
    this.guard.configure(effective);
    this.ramp?.configure(effective);
    this.logger.level = effective.log.level;
    for (const c of retiredClusters(oldTable, table)) void c.close();
  }
}

export async function startApp(options: AppOptions): Promise<App> {
  return new App(options).start();
}

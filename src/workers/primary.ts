// The primary of `workers: N`: the control plane without a data plane. It wires the one owner of
// control state (Control with its state file, or the fleet), the guard (judging the workers'
// merged figures), the admin API and the metrics (its own aggregated with the workers'), and the
// workers (pool.ts), to which it broadcasts every control change. It keeps the listening socket
// (node:cluster shares it with the workers), so replacing every worker (restart) refuses nothing.
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../admin/server.js';
import { readOnlyToken } from '../admin/access.js';
import type { DataPlaneView } from '../admin/deps.js';
import { adminToken, checkAdminProtected, fleetConfigured, hostPort, overrideRule, reportOf, stateFilePath, VERSION } from '../setup.js';
import { loadConfigFile } from '../config/load.js';
import { effectiveConfig, reloadControl, type ReloadBy, type ReloadResult } from '../reload.js';
import type { Config } from '../config/schema.js';
import { Control, type Saved, type Source } from '../control/control.js';
import { rampRules } from '../ramp/machine.js';
import { checkPersisted, type PersistedState } from '../control/persisted.js';
import { CutoverError } from '../errors.js';
import { Fleet } from '../fleet/fleet.js';
import { totalsOfSnapshot } from '../ramp/evidence.js';
import { RampRunner, type SourceTotals } from '../ramp/runner.js';
import { mergeSnapshots } from '../stats/snapshot.js';
import type { RouteTotals } from '../fleet/snapshots.js';
import { GuardRunner, type FiguresSource } from '../guard/runner.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { FileStateStore } from '../state/file-store.js';
import { Stats } from '../stats/store.js';
import { aggregateMetrics, mergeDataPlane } from './merge.js';
import { WorkerPool, type Member } from './pool.js';

/** `workers` as a number of processes ('auto': one per available CPU). */
export function workerCount(config: Config): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}


export interface PrimaryOptions {
  config: Config;
  configFile?: string;
  logger?: Logger;
  resetState?: boolean;
  adminToken?: string;
  replica?: string;
}

export class Primary {
  readonly logger: Logger;
  readonly control: Control;
  readonly guard: GuardRunner;
  /** Ramps: the primary takes the steps, judging holds on every worker's totals (or, in a fleet's leader, every replica's). */
  readonly ramp: RampRunner;
  /** Every serving worker's cumulative totals of the ramping routes, refreshed every guard interval. */
  private workerTotals: Array<{ source: string; routes: Record<string, RouteTotals> }> = [];
  private totalsTimer: NodeJS.Timeout | undefined;
  readonly metrics: Metrics;
  readonly pool: WorkerPool;
  readonly fleet: Fleet | undefined;
  readonly admin: FastifyInstance | undefined;
  readonly stateFile: string | undefined;
  readonly startedAt = Date.now();
  config: Config;
  proxyAddress: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;
  /** Series the guard sets its thresholds on; the primary serves no traffic and records nothing. */
  private readonly stats: Stats;
  private restored: Promise<Saved> | undefined;
  private shuttingDown = false;
  private restarting = false;
  private broadcastDue = false;
  private closing: Promise<void> | undefined;
  private readonly restarts;

  constructor(readonly options: PrimaryOptions) {
    const config = (this.config = options.config);
    this.logger = options.logger ?? createLogger(config.log.level);
    const token = options.adminToken ?? adminToken(config, options.configFile);
    checkAdminProtected(config, token);
    this.stateFile = stateFilePath(config, options.configFile);
    const file = this.stateFile ? new FileStateStore<PersistedState>(this.stateFile, checkPersisted) : undefined;
    this.fleet = fleetConfigured(config) ? new Fleet({ config, logger: this.logger, file, replica: options.replica, onRemote: () => this.broadcastState() }) : undefined;
    this.control = new Control(config, this.fleet?.store ?? file, this.logger, Date.now, rampRules);
    this.restored = this.fleet ? undefined : this.control.restore({ reset: options.resetState });
    this.stats = new Stats(config.stats.windowSeconds);
    this.metrics = createMetrics({ stats: this.stats, control: this.control, inFlight: () => 0, version: VERSION, role: 'primary', mergedWindows: () => this.mergedWindows() });
    this.fleet?.attach(this.control, this.metrics);
    const replaced = this.metrics.counter('cutover_worker_replacements_total', 'Workers that died and were replaced, by how they ended (signal or exit code).', ['reason']);
    this.restarts = this.metrics.counter('cutover_worker_restarts_total', 'Replacements of every worker without a gap (SIGUSR2, POST /api/v1/restart), by outcome.', ['outcome']);
    this.metrics.gauge('cutover_workers', 'Worker processes by state (starting, serving, draining).', ['state'], (g) => {
      g.reset();
      for (const s of ['starting', 'serving', 'draining'] as const) g.set({ state: s }, [...this.pool.members.values()].filter((m) => m.state === s).length);
    });
    this.pool = new WorkerPool({ logger: this.logger, replaced, init: () => ({ config: this.config, configFile: options.configFile, state: this.control.toPersisted() }) });
    this.ramp = new RampRunner(
      {
        stats: this.stats,
        control: this.control,
        logger: this.logger,
        metrics: this.metrics,
        acting: () => this.fleet?.mode() !== 'follower',
        totals: (route) => this.fleet?.totals(route) ?? this.rampSources(route),
      },
      config,
    );
    this.guard = new GuardRunner(
      { stats: this.stats, control: this.control, logger: this.logger, metrics: this.metrics, source: this.figuresSource(), breach: this.ramp },
      config,
    );
    // Every change (API, guard, reload, another replica's) reaches every worker.
    this.control.onChange(() => this.broadcastState());
    this.admin = config.admin.enabled
      ? createAdminServer({
          logger: this.logger,
          token,
          protectMetrics: config.admin.protectMetrics,
          readOnlyToken: readOnlyToken(config, options.configFile, token),
          dashboard: config.admin.dashboard,
          control: this.control,
          metrics: () => this.metricsText(),
          metricsContentType: this.metrics.registry.contentType,
          inFlight: async () => (await this.pool.askAll({ kind: 'in-flight' })).reduce((n, a) => n + (a.value ?? 0), 0),
          dataPlane: () => this.dataPlaneView(),
          ready: () => !this.shuttingDown,
          info: () => ({ version: VERSION, configFile: options.configFile, stateFile: this.stateFile, startedAt: this.startedAt }),
          routeConfigs: () => this.config.routes,
          guardStatus: () => this.guard.status(),
          fleet: this.fleet ? () => this.fleet!.status() : undefined,
          reload: options.configFile ? (by) => this.reload(by) : undefined,
          restart: (by) => this.restart(by),
          report: async () => reportOf(this.config, this.control, await this.dataPlaneView(), this.startedAt),
          ramp: this.ramp,
        })
      : undefined;
  }

  /**
   * The guard judges the workers' merged figures; in a fleet, the fleet decides (the leader judges
   * every replica's, a follower none) unless it falls back to local judgment: then the workers'.
   */
  private figuresSource(): FiguresSource {
    const fleet = this.fleet;
    if (!fleet) return this.pool;
    return {
      mode: () => (fleet.mode() === 'local' ? 'merged' : fleet.mode()),
      merged: (route) => (fleet.mode() === 'local' ? this.pool.merged(route) : fleet.merged(route)),
    };
  }

  async start(): Promise<this> {
    if (this.fleet) this.restored = this.control.restore({ reset: this.options.resetState, loaded: await this.fleet.connect() });
    await this.restored;
    this.fleet?.copyToFile();
    const n = workerCount(this.config);
    this.proxyAddress = await this.pool.start(n).catch(async (err: Error) => {
      await this.close(0);
      throw new CutoverError('workers_failed', `the workers did not start: ${err.message}`);
    });
    this.logger.info({ address: `http://${hostPort(this.proxyAddress)}`, workers: n, pids: this.pool.serving().map((m) => m.pid) }, 'proxy listening');
    if (this.fleet) await this.fleet.start(() => ({ ...this.pool.wire(), totals: this.mergedTotals() }));
    this.totalsTimer = setInterval(() => void this.refreshTotals(), this.config.guard.intervalMs);
    this.totalsTimer.unref();
    if (this.admin) {
      try {
        await this.admin.listen({ host: this.config.admin.host, port: this.config.admin.port });
      } catch (err) {
        await this.close(0);
        throw err;
      }
      this.adminAddress = this.admin.server.address() as AddressInfo;
      this.logger.info({ address: `http://${hostPort(this.adminAddress)}` }, 'admin listening');
    }
    this.guard.start();
    this.ramp.start();
    return this;
  }

  /**
   * SIGTERM: not ready at once; every worker keeps accepting for shutdownDrainSeconds with
   * `Connection: close`, then stops, and in-flight requests get shutdownGraceSeconds. close()
   * then flushes the state and closes the rest.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      this.shuttingDown = true;
      const drainMs = this.config.shutdownDrainSeconds * 1000;
      const graceMs = this.config.shutdownGraceSeconds * 1000;
      this.logger.info({ drainMs, graceMs, workers: this.pool.members.size }, 'drain: not ready; the workers keep serving with Connection: close, then finish in-flight requests');
      await this.pool.close(graceMs, drainMs);
    })();
    return this.draining;
  }

  private draining: Promise<void> | undefined;

  /** Drain every worker (in-flight requests get graceMs), flush the state, close everything. */
  close(graceMs = this.config.shutdownGraceSeconds * 1000): Promise<void> {
    this.closing ??= (async () => {
      this.shuttingDown = true;
      this.guard.stop();
      this.ramp.stop();
      clearInterval(this.totalsTimer);
      this.logger.info({ graceMs, workers: this.pool.members.size }, 'shutdown: not ready, workers stop accepting and finish in-flight requests');
      await (this.draining ?? this.pool.close(graceMs));
      await this.control.flush();
      await this.fleet?.close();
      await this.admin?.close();
      await this.guard.close();
      await this.ramp.close();
      this.metrics.close();
      this.logger.info({ stateFile: this.stateFile }, 'shutdown: done, state flushed');
    })();
    return this.closing;
  }

  /** SIGHUP and POST /api/v1/config/reload: the primary loads and checks the file, every worker applies it. */
  async reload(by: ReloadBy): Promise<ReloadResult> {
    if (!this.options.configFile) throw new CutoverError('no_config_file', 'this process was not started from a config file; nothing to reload');
    const { config: next } = loadConfigFile(this.options.configFile);
    const prev = this.config;
    const { effective, warnings } = effectiveConfig(prev, next, true);
    overrideRule(effective, this.options.configFile); // an unreadable token file throws here: nothing changed
    await Promise.all(
      this.pool.serving().map((m) => this.pool.ask(m, { kind: 'config', config: effective }).catch((err: Error) => warnings.push(`worker ${m.pid} did not apply it: ${err.message}`))),
    );
    this.applyControlPlane(effective);
    const result = await reloadControl(this.control, prev, effective, by, warnings, this.stateFile !== undefined || this.fleet !== undefined);
    this.logger.info({ routesAdded: result.routesAdded, routesRemoved: result.routesRemoved, warnings, file: this.options.configFile }, 'config reloaded in every worker');
    return result;
  }

  /**
   * SIGUSR2 and POST /api/v1/restart: new workers with the code and config on disk, then the old
   * ones drained; the primary (same PID) keeps the socket, so no connection is refused. Applies
   * what a reload cannot (stats and guard windows, the number of workers, new code) except the
   * primary's own listeners and store (listen, admin, state: a stop and start).
   */
  async restart(by: { source: Source; reason?: string }) {
    if (this.shuttingDown) throw new CutoverError('shutting_down', 'cutover is shutting down; nothing to restart');
    if (this.restarting) throw new CutoverError('restart_in_progress', 'a restart is under way; GET /api/v1/status shows the workers');
    this.restarting = true;
    const prev = this.config;
    try {
      const next = this.options.configFile ? loadConfigFile(this.options.configFile).config : prev;
      const warnings = effectiveConfig(prev, next, true).warnings.filter((w) => /^(listen|admin|state) /.test(w));
      let workers = next.workers;
      if (workerCount(next) === 0) {
        warnings.push(`workers: 0 (one process, no cluster) needs a stop and start; restarted with workers: ${prev.workers}`);
        workers = prev.workers;
      }
      const effective: Config = { ...next, listen: prev.listen, admin: prev.admin, state: prev.state, workers };
      overrideRule(effective, this.options.configFile);
      const changed = (Object.keys(next) as Array<keyof Config>).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(prev[k]));
      const t0 = Date.now();
      this.config = effective; // what the new workers are given
      const graceMs = effective.shutdownGraceSeconds * 1000;
      const drainMs = effective.shutdownDrainSeconds * 1000;
      const r = await this.pool.replaceAll(workerCount(effective), drainMs, graceMs).catch((err: Error) => {
        this.config = prev;
        throw new CutoverError('restart_failed', `the new workers did not start; the old ones keep serving: ${err.message}`);
      });
      this.applyControlPlane(effective);
      const pids = (ms: Member[]) => ms.map((m) => m.pid);
      this.control.note({ source: by.source, kind: 'config', from: { workers: pids(r.stopped) }, to: { workers: pids(r.started), changed }, reason: by.reason ?? 'restart: new workers with the code and config on disk' });
      this.restarts.inc({ outcome: 'done' });
      this.logger.info({ started: pids(r.started), draining: pids(r.stopped), changed, warnings }, 'restart: new workers serving, the old ones draining');
      void r.drained.then(() => this.logger.info({ stopped: pids(r.stopped) }, 'restart: old workers drained and stopped'));
      return { restarted: true, pid: process.pid, started: pids(r.started), stopped: pids(r.stopped), changed, warnings, readyMs: Date.now() - t0, drainMs, graceMs };
    } catch (err) {
      this.restarts.inc({ outcome: 'failed' });
      throw err;
    } finally {
      this.restarting = false;
    }
  }

  /** The primary's half of a new config: routes in the control state, the guard's rules and interval. */
  /** Ask every worker for its cumulative totals of the routes whose ramp is under way. */
  private async refreshTotals(): Promise<void> {
    const ramping = this.control.routes().filter((r) => {
      const status = this.control.ramp(r)?.status;
      return status === 'running' || status === 'paused';
    });
    if (ramping.length === 0) {
      this.workerTotals = [];
      return;
    }
    const answers = await this.pool.askAll({ kind: 'data-plane' });
    this.workerTotals = answers.flatMap(({ member, value }) => {
      if (!value) return [];
      const routes: Record<string, RouteTotals> = {};
      for (const r of ramping) {
        const v = value.routes[r];
        if (v) routes[r] = { legacy: v.legacy.cumulative, candidate: v.candidate.cumulative };
      }
      return [{ source: `worker-${member.pid}`, routes }];
    });
  }

  /** The hold's sources for a route: one per worker. */
  private rampSources(route: string): SourceTotals[] {
    return this.workerTotals.flatMap((w) => {
      const t = w.routes[route];
      return t ? [{ source: w.source, legacy: totalsOfSnapshot(t.legacy), candidate: totalsOfSnapshot(t.candidate) }] : [];
    });
  }

  /** This replica's totals for the fleet: its workers' added up. */
  private mergedTotals(): Record<string, RouteTotals> | undefined {
    let out: Record<string, RouteTotals> | undefined;
    const routes = new Set(this.workerTotals.flatMap((w) => Object.keys(w.routes)));
    for (const r of routes) {
      const all = this.workerTotals.flatMap((w) => (w.routes[r] ? [w.routes[r]] : []));
      (out ??= {})[r] = { legacy: mergeSnapshots(all.map((t) => t.legacy)), candidate: mergeSnapshots(all.map((t) => t.candidate)) };
    }
    return out;
  }

  private applyControlPlane(effective: Config): void {
    const names = new Set(effective.routes.map((r) => r.name));
    for (const r of effective.routes) this.control.split(r.name, r.candidatePercent);
    this.control.retainRoutes(names);
    this.stats.retain(names);
    this.config = effective;
    this.guard.configure(effective);
    this.ramp.configure(effective);
    this.pool.intervalMs = effective.guard.intervalMs;
    this.logger.level = effective.log.level;
  }

  /** Control changes reach the workers once per tick, however many a request made. */
  private broadcastState(): void {
    if (this.broadcastDue) return;
    this.broadcastDue = true;
    queueMicrotask(() => {
      this.broadcastDue = false;
      this.pool.broadcast({ cutover: 'state', state: this.control.toPersisted() });
    });
  }

  async dataPlaneView(): Promise<DataPlaneView> {
    const answers = await this.pool.askAll({ kind: 'data-plane' });
    return mergeDataPlane(answers, this.config.routes.map((r) => r.name), this.config.stats.windowSeconds);
  }

  private async mergedWindows() {
    const v = await this.dataPlaneView();
    return Object.entries(v.routes).flatMap(([route, r]) => (['legacy', 'candidate'] as const).map((backend) => ({ route, backend, window: r[backend].window })));
  }

  private async metricsText(): Promise<string> {
    const [own, answers] = await Promise.all([this.metrics.registry.getMetricsAsJSON(), this.pool.askAll({ kind: 'metrics' })]);
    return aggregateMetrics(own, answers.flatMap((a) => (a.value ? [a.value] : [])));
  }
}

// The primary of `workers: N`: the control plane (control-plane.ts) with the worker pool as its
// data plane. It compiles the spec every worker serves with, broadcasts every control change to
// them, merges their reports for the admin API and the metrics, and their guard figures for the
// guard. It keeps the listening socket (node:cluster shares it with the workers), so replacing
// every worker (restart) refuses nothing. Its work per request is zero.
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { DataPlaneView } from '../admin/deps.js';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Control, Source } from '../control/control.js';
import { ControlPlane, openControl, type DataPlanePort } from '../control-plane.js';
import type { DataPlaneSpec } from '../data-plane.js';
import { CutoverError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import type { RouteTotals } from '../fleet/snapshots.js';
import type { GuardRunner } from '../guard/runner.js';
import { createLogger, type Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { totalsOfSnapshot } from '../ramp/evidence.js';
import type { RampRunner, SourceTotals } from '../ramp/runner.js';
import { effectiveConfig, reloadControl, type ReloadBy, type ReloadResult } from '../reload.js';
import { dataPlaneSpec, hostPort, rampingRoutes } from '../setup.js';
import { mergeSnapshots } from '../stats/snapshot.js';
import { Stats } from '../stats/store.js';
import { mergeDataPlane, mergeFigures, mergeWorkerParity } from './merge.js';
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
  readonly plane: ControlPlane;
  readonly pool: WorkerPool;
  proxyAddress: AddressInfo | undefined;
  /** What every worker serves with: compiled from the config by the primary. */
  private spec: DataPlaneSpec;
  /** Every serving worker's cumulative totals of the ramping routes, refreshed every guard interval. */
  private workerTotals: Array<{ source: string; routes: Record<string, RouteTotals> }> = [];
  private totalsTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private restarting = false;
  private broadcastDue = false;
  private closing: Promise<void> | undefined;
  private draining: Promise<void> | undefined;
  private readonly restarts;

  constructor(readonly options: PrimaryOptions) {
    const logger = (this.logger = options.logger ?? createLogger(options.config.log.level));
    this.spec = dataPlaneSpec(options.config, options.configFile);
    const o = { ...options, logger, onRemote: () => this.broadcastState() };
    const state = openControl(o);
    this.pool = new WorkerPool({ logger, replaced: (reason) => replaced.inc({ reason }), init: () => ({ spec: this.spec, configFile: options.configFile, state: state.control.toPersisted() }) });
    const hooks = { ready: () => !this.shuttingDown, reload: (by: ReloadBy) => this.reload(by), restart: (by: { source: Source; reason?: string }) => this.restart(by) };
    this.plane = new ControlPlane(o, state, this.port(), hooks);
    const m = this.plane.metrics;
    const replaced = m.counter('cutover_worker_replacements_total', 'Workers that died and were replaced, by how they ended (signal or exit code).', ['reason']);
    this.restarts = m.counter('cutover_worker_restarts_total', 'Replacements of every worker without a gap (SIGUSR2, POST /api/v1/restart), by outcome.', ['outcome']);
    m.gauge('cutover_workers', 'Worker processes by state (starting, serving, draining).', ['state'], (g) => {
      g.reset();
      for (const s of ['starting', 'serving', 'draining'] as const) g.set({ state: s }, [...this.pool.members.values()].filter((w) => w.state === s).length);
    });
    // Every change (API, guard, reload, another replica's) reaches every worker.
    this.control.onChange(() => this.broadcastState());
  }

  get config(): Config { return this.spec.config; }
  get control(): Control { return this.plane.control; }
  get guard(): GuardRunner { return this.plane.guard; }
  get ramp(): RampRunner { return this.plane.ramp; }
  get metrics(): Metrics { return this.plane.metrics; }
  get fleet(): Fleet | undefined { return this.plane.fleet; }
  get admin(): FastifyInstance | undefined { return this.plane.admin; }
  get stateFile(): string | undefined { return this.plane.stateFile; }
  get adminAddress(): AddressInfo | undefined { return this.plane.adminAddress; }

  /** The workers as the control plane's data plane: their reports merged, their guard figures merged. */
  private port(): DataPlanePort {
    const reports = () => this.pool.askAll({ kind: 'data-plane' });
    return {
      // The primary records nothing: its series only carry the guard's thresholds.
      stats: new Stats(this.config.stats.windowSeconds),
      merged: this.pool,
      holdSources: (route) => this.rampSources(route),
      figures: async () => mergeFigures(await reports(), this.config.stats.windowSeconds),
      view: () => this.dataPlaneView(),
      inFlight: async () => (await this.pool.askAll({ kind: 'in-flight' })).reduce((n, a) => n + (a.value ?? 0), 0),
      parity: {
        snapshot: async () => mergeWorkerParity(await reports()),
        reset: async () => [...new Set((await this.pool.askAll({ kind: 'parity-reset' })).flatMap((a) => a.value ?? []))],
        // Each worker keeps its own sampled requests: theirs together, the newest `limit` of them.
        cases: async (route, limit) => {
          const all = (await this.pool.askAll({ kind: 'parity-cases', route, limit })).map((a) => a.value);
          if (all.every((v) => v === null || v === undefined)) return undefined;
          const lines = all.flatMap((v) => v ?? []);
          return limit === undefined ? lines : lines.slice(-limit);
        },
      },
      paritySource: (route) => this.pool.mergedParity(route),
      publish: () => ({ ...this.pool.wire(), totals: this.mergedTotals() }),
    };
  }

  async start(): Promise<this> {
    await this.plane.restore();
    const n = workerCount(this.config);
    this.proxyAddress = await this.pool.start(n).catch(async (err: Error) => {
      await this.close(0);
      throw new CutoverError('workers_failed', `the workers did not start: ${err.message}`);
    });
    this.logger.info({ address: `http://${hostPort(this.proxyAddress)}`, workers: n, pids: this.pool.serving().map((m) => m.pid) }, 'proxy listening');
    this.totalsTimer = setInterval(() => void this.refreshTotals(), this.config.guard.intervalMs);
    this.totalsTimer.unref();
    try {
      await this.plane.start();
    } catch (err) {
      await this.close(0);
      throw err;
    }
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

  /** Drain every worker (in-flight requests get graceMs), flush the state, close everything. */
  close(graceMs = this.config.shutdownGraceSeconds * 1000): Promise<void> {
    this.closing ??= (async () => {
      this.shuttingDown = true;
      this.plane.stop();
      clearInterval(this.totalsTimer);
      this.logger.info({ graceMs, workers: this.pool.members.size }, 'shutdown: not ready, workers stop accepting and finish in-flight requests');
      await (this.draining ?? this.pool.close(graceMs));
      await this.plane.close();
    })();
    return this.closing;
  }

  /** SIGHUP and POST /api/v1/config/reload: the primary loads, checks and compiles the file, every worker applies it. */
  async reload(by: ReloadBy): Promise<ReloadResult> {
    if (!this.options.configFile) throw new CutoverError('no_config_file', 'this process was not started from a config file; nothing to reload');
    const { config: next } = loadConfigFile(this.options.configFile);
    const prev = this.config;
    const { effective, warnings } = effectiveConfig(prev, next, true);
    const spec = dataPlaneSpec(effective, this.options.configFile); // an unreadable token file throws here: nothing changed
    await Promise.all(this.pool.serving().map((m) => this.pool.ask(m, { kind: 'spec', spec }).catch((err: Error) => warnings.push(`worker ${m.pid} did not apply it: ${err.message}`))));
    this.applyControlPlane(spec);
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
    const prevSpec = this.spec;
    const prev = prevSpec.config;
    try {
      const next = this.options.configFile ? loadConfigFile(this.options.configFile).config : prev;
      const warnings = effectiveConfig(prev, next, true).warnings.filter((w) => /^(listen|admin|state) /.test(w));
      let workers = next.workers;
      if (workerCount(next) === 0) {
        warnings.push(`workers: 0 (one process, no cluster) needs a stop and start; restarted with workers: ${prev.workers}`);
        workers = prev.workers;
      }
      const effective: Config = { ...next, listen: prev.listen, admin: prev.admin, state: prev.state, workers };
      const spec = dataPlaneSpec(effective, this.options.configFile);
      const changed = (Object.keys(next) as Array<keyof Config>).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(prev[k]));
      const t0 = Date.now();
      this.spec = spec; // what the new workers are given
      const graceMs = effective.shutdownGraceSeconds * 1000;
      const drainMs = effective.shutdownDrainSeconds * 1000;
      const r = await this.pool.replaceAll(workerCount(effective), drainMs, graceMs).catch((err: Error) => {
        this.spec = prevSpec;
        throw new CutoverError('restart_failed', `the new workers did not start; the old ones keep serving: ${err.message}`);
      });
      this.applyControlPlane(spec);
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

  /** Ask every worker for its cumulative totals of the routes whose ramp is under way. */
  private async refreshTotals(): Promise<void> {
    const ramping = rampingRoutes(this.control);
    if (ramping.length === 0) {
      this.workerTotals = [];
      return;
    }
    const answers = await this.pool.askAll({ kind: 'totals', routes: ramping });
    this.workerTotals = answers.flatMap(({ member, value }) => (value ? [{ source: `worker-${member.pid}`, routes: value }] : []));
  }

  /** The hold's sources for a route: one per worker. */
  private rampSources(route: string): SourceTotals[] {
    return this.workerTotals.flatMap((w) => {
      const t = w.routes[route];
      return t ? [{ source: w.source, legacy: totalsOfSnapshot(t.legacy), candidate: totalsOfSnapshot(t.candidate), parity: this.pool.parityOf(w.source, route) }] : [];
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

  /** The primary's half of a new spec: routes in the control state, the guard's rules and interval. */
  private applyControlPlane(spec: DataPlaneSpec): void {
    const effective = spec.config;
    const names = new Set(effective.routes.map((r) => r.name));
    for (const r of effective.routes) this.control.split(r.name, r.candidatePercent);
    this.control.retainRoutes(names);
    this.spec = spec;
    this.plane.configure(effective);
    this.pool.intervalMs = effective.guard.intervalMs;
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
}

// The one control-plane wiring, for one process (app.ts) and for the workers' primary
// (workers/primary.ts): the owner of control state (Control with its state file, or the fleet),
// the metrics, the ramp, the guard and the admin API. The data plane is behind a port: this
// process's own (DataPlane), or the worker pool's merged reports. Nothing here serves a request.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { readOnlyToken } from './admin/access.js';
import type { DataPlaneView } from './admin/deps.js';
import type { LiveView } from './admin/events.js';
import type { ParityPort } from './admin/deps.js';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config/schema.js';
import { Control, type Saved, type Source } from './control/control.js';
import { checkPersisted, type PersistedState } from './control/persisted.js';
import { Fleet } from './fleet/fleet.js';
import type { RouteTotals, WireRoute } from './fleet/snapshots.js';
import { GuardRunner, type FiguresSource } from './guard/runner.js';
import type { Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import type { FiguresPort } from './metrics/port.js';
import { rampRules } from './ramp/machine.js';
import { RampRunner, type SourceTotals } from './ramp/runner.js';
import type { ReloadBy, ReloadResult } from './reload.js';
import type { Report } from './report/build.js';
import { adminToken, checkAdminProtected, fleetConfigured, hostPort, reportOf, stateFilePath, VERSION } from './setup.js';
import { FileStateStore } from './state/file-store.js';
import type { Stats } from './stats/store.js';
import type { ParitySource } from './parity/source.js';

export interface ControlPlaneOptions {
  config: Config;
  /** Absolute path of the config file, when there is one. */
  configFile?: string;
  logger: Logger;
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
  /** In a fleet: another replica changed the shared state (the primary tells its workers). */
  onRemote?: () => void;
}

/** The control state's owner, opened before the data plane that reads it is built. */
export interface ControlState {
  control: Control;
  fleet: Fleet | undefined;
  stateFile: string | undefined;
  token: string | undefined;
  /** The first state write (one process without a fleet restores at once). */
  restored: Promise<Saved> | undefined;
}

/** Open the store (file or fleet) and the Control on it. Throws on an unprotected admin listener or an unreadable token file. */
export function openControl(o: ControlPlaneOptions): ControlState {
  const { config, logger } = o;
  const token = o.adminToken ?? adminToken(config, o.configFile);
  checkAdminProtected(config, token);
  const stateFile = stateFilePath(config, o.configFile);
  const file = stateFile ? new FileStateStore<PersistedState>(stateFile, checkPersisted) : undefined;
  // Fleet mode: Redis is the truth and the file the replica's local copy; else the file alone.
  const fleet = fleetConfigured(config) ? new Fleet({ config, logger, file, replica: o.replica, onRemote: o.onRemote }) : undefined;
  const control = new Control(config, fleet?.store ?? file, logger, o.clock ?? Date.now, rampRules);
  // One process restores from its file now; a replica reads the shared state in restore().
  const restored = fleet ? undefined : control.restore({ reset: o.resetState });
  return { control, fleet, stateFile, token, restored };
}

/** What the control plane reads of the data plane: this process's, or its workers' merged. */
export interface DataPlanePort {
  /** The series the guard and the ramp read when they judge this process's own traffic. */
  stats: Stats;
  /** The workers' merged figures: the guard judges these instead of `stats`. */
  merged?: FiguresSource;
  /** The ramp's hold sources (one per worker) instead of `stats`. */
  holdSources?: (route: string) => SourceTotals[] | undefined;
  figures: FiguresPort;
  view(): Promise<DataPlaneView>;
  inFlight(): Promise<number>;
  parity: ParityPort;
  /** Each route's parity as the guard, the ramp and the scorecard judge it (this process's, or its workers' merged). */
  paritySource?: ParitySource;
  /** The dashboard's figures read from this process's own series (without: from view()). */
  live?: () => LiveView;
  /** What this replica publishes to the fleet every interval. */
  publish(): { routes: Record<string, WireRoute>; requests: number; totals?: Record<string, RouteTotals> };
}

export interface ControlPlaneHooks {
  ready(): boolean;
  reload?(by: ReloadBy): Promise<ReloadResult>;
  restart?(by: { source: Source; reason?: string }): Promise<unknown>;
}

export class ControlPlane {
  readonly control: Control;
  readonly fleet: Fleet | undefined;
  readonly stateFile: string | undefined;
  readonly metrics: Metrics;
  readonly ramp: RampRunner;
  readonly guard: GuardRunner;
  readonly admin: FastifyInstance | undefined;
  readonly startedAt = Date.now();
  adminAddress: AddressInfo | undefined;
  config: Config;
  private restored: Promise<Saved> | undefined;

  constructor(
    private readonly o: ControlPlaneOptions,
    state: ControlState,
    private readonly port: DataPlanePort,
    hooks: ControlPlaneHooks,
  ) {
    const { logger, clock } = o;
    const config = (this.config = o.config);
    ({ control: this.control, fleet: this.fleet, stateFile: this.stateFile, restored: this.restored } = state);
    const { control, fleet } = this;
    this.metrics = createMetrics({ control, figures: port.figures, version: VERSION, windowSeconds: config.stats.windowSeconds });
    fleet?.attach(control, this.metrics);
    this.ramp = new RampRunner(
      {
        stats: port.stats,
        control,
        logger,
        metrics: this.metrics,
        clock,
        intervalMs: o.rampIntervalMs,
        acting: () => fleet?.mode() !== 'follower',
        // The fleet's leader judges a hold on every replica's traffic; a primary on every worker's.
        totals: (route) => fleet?.totals(route) ?? port.holdSources?.(route),
        parity: port.paritySource,
      },
      config,
    );
    this.guard = new GuardRunner({ stats: port.stats, control, logger, metrics: this.metrics, clock, source: this.figuresSource(), parity: port.paritySource, breach: this.ramp }, config);
    this.admin = config.admin.enabled ? this.adminServer(state.token, hooks) : undefined;
  }

  /**
   * Whose figures the guard judges: in a fleet, the fleet decides (the leader judges every
   * replica's, a follower none) unless it falls back to local judgment; then this process's own,
   * or its workers' merged.
   */
  private figuresSource(): FiguresSource | undefined {
    const { fleet, port } = this;
    if (!fleet) return port.merged;
    const local = () => fleet.mode() === 'local';
    return {
      mode: () => (local() ? (port.merged ? 'merged' : 'local') : fleet.mode()),
      merged: (route) => (local() ? port.merged?.merged(route) : fleet.merged(route)),
      mergedParity: (route) => (local() ? port.merged?.mergedParity?.(route) : fleet.mergedParity(route)),
    };
  }

  private adminServer(token: string | undefined, hooks: ControlPlaneHooks): FastifyInstance {
    const { o, port } = this;
    return createAdminServer({
      logger: o.logger,
      token,
      protectMetrics: this.config.admin.protectMetrics,
      readOnlyToken: readOnlyToken(this.config, o.configFile, token),
      dashboard: this.config.admin.dashboard,
      live: port.live,
      control: this.control,
      metrics: () => this.metrics.registry.metrics(),
      metricsContentType: this.metrics.registry.contentType,
      inFlight: () => port.inFlight(),
      dataPlane: () => port.view(),
      ready: hooks.ready,
      info: () => ({ version: VERSION, configFile: o.configFile, stateFile: this.stateFile, startedAt: this.startedAt }),
      routeConfigs: () => this.config.routes,
      guardStatus: () => this.guard.status(),
      ramp: this.ramp,
      report: () => this.report(),
      fleet: this.fleet ? () => this.fleet!.status() : undefined,
      reload: o.configFile ? hooks.reload : undefined,
      restart: hooks.restart,
      parity: port.parity,
    });
  }

  /**
   * The control state before the first request: a replica reads the shared state (a latched
   * revert stays latched on a new replica); then the first write, so that a state file that
   * cannot be written is reported before traffic flows.
   */
  async restore(): Promise<void> {
    if (this.fleet) this.restored = this.control.restore({ reset: this.o.resetState, loaded: await this.fleet.connect() });
    await this.restored;
    this.fleet?.copyToFile();
  }

  /** After the proxy listens: publish to the fleet, listen for the admin API, start judging. */
  async start(): Promise<void> {
    if (this.fleet) await this.fleet.start(() => this.port.publish());
    if (this.admin) {
      await this.admin.listen({ host: this.config.admin.host, port: this.config.admin.port });
      this.adminAddress = this.admin.server.address() as AddressInfo;
      this.o.logger.info({ address: `http://${hostPort(this.adminAddress)}` }, 'admin listening');
    }
    this.guard.start();
    this.ramp.start();
  }

  /** The migration scorecard of every route, from the data plane's view. */
  async report(): Promise<Report> {
    return reportOf(this.config, this.control, await this.port.view(), this.startedAt, this.port.paritySource);
  }

  /** A new config's control-plane half: the guard's rules and interval, the ramps, the log level. */
  configure(effective: Config): void {
    this.config = effective;
    this.guard.configure(effective);
    this.ramp.configure(effective);
    this.o.logger.level = effective.log.level;
  }

  /** Stop judging (before the data plane drains: no verdict on a draining process's figures). */
  stop(): void {
    this.guard.stop();
    this.ramp.stop();
  }

  /** Flush the state and close the rest; the data plane is closed by whoever owns it. */
  async close(): Promise<void> {
    this.stop();
    await this.control.flush();
    await this.fleet?.close();
    await this.admin?.close();
    await this.guard.close();
    await this.ramp.close();
    this.metrics.close();
    this.o.logger.info({ stateFile: this.stateFile }, 'shutdown: done, state flushed');
  }
}

// One process: the control plane (control-plane.ts) and the data plane (data-plane.ts) side by
// side, the data plane reached directly through the port. Returns something you can start and close.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { liveFromStats } from './admin/events.js';
import type { DataPlaneView } from './admin/deps.js';
import { loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import type { Control } from './control/control.js';
import { ControlPlane, openControl, type ControlPlaneOptions, type DataPlanePort } from './control-plane.js';
import { DataPlane } from './data-plane.js';
import { CutoverError } from './errors.js';
import type { Fleet } from './fleet/fleet.js';
import type { GuardRunner } from './guard/runner.js';
import { createLogger, type Logger } from './log.js';
import type { Metrics } from './metrics/metrics.js';
import type { ParityStore } from './parity/store.js';
import { nodeHealth } from './proxy/node-health.js';
import type { ProxyServer } from './proxy/server.js';
import type { RoutingTable } from './proxy/table.js';
import type { RampRunner } from './ramp/runner.js';
import { effectiveConfig, reloadControl, type ReloadBy, type ReloadResult } from './reload.js';
import type { Report } from './report/build.js';
import { dataPlaneSpec, hostPort, rampTotals, requestsServed } from './setup.js';
import type { Stats } from './stats/store.js';
import { storeSource } from './parity/source.js';

export type { DataPlaneView } from './admin/deps.js';
export { startupProblems, VERSION } from './setup.js';
export type { ReloadResult };

export interface AppOptions extends Omit<ControlPlaneOptions, 'logger' | 'onRemote'> {
  logger?: Logger;
}

export class App {
  readonly logger: Logger;
  readonly data: DataPlane;
  readonly plane: ControlPlane;
  proxyAddress: AddressInfo | undefined;
  private shuttingDown = false;

  constructor(readonly options: AppOptions) {
    const logger = (this.logger = options.logger ?? createLogger(options.config.log.level));
    const o = { ...options, logger };
    const state = openControl(o);
    this.data = new DataPlane({ spec: dataPlaneSpec(options.config, options.configFile), control: state.control, logger });
    const reload = options.configFile ? (by: ReloadBy) => this.reload(by) : undefined;
    this.plane = new ControlPlane(o, state, localPort(this.data, state.control), { ready: () => !this.shuttingDown, reload });
  }

  get config(): Config {
    return this.data.config;
  }
  get stats(): Stats {
    return this.data.stats;
  }
  get proxy(): ProxyServer {
    return this.data.proxy;
  }
  get table(): RoutingTable {
    return this.data.table;
  }
  get parity(): ParityStore {
    return this.data.parity;
  }
  get control(): Control {
    return this.plane.control;
  }
  get metrics(): Metrics {
    return this.plane.metrics;
  }
  get guard(): GuardRunner {
    return this.plane.guard;
  }
  get ramp(): RampRunner {
    return this.plane.ramp;
  }
  get admin(): FastifyInstance | undefined {
    return this.plane.admin;
  }
  get fleet(): Fleet | undefined {
    return this.plane.fleet;
  }
  get stateFile(): string | undefined {
    return this.plane.stateFile;
  }
  get adminAddress(): AddressInfo | undefined {
    return this.plane.adminAddress;
  }
  get startedAt(): number {
    return this.plane.startedAt;
  }

  /** This process's data plane as the admin API shows it. */
  dataPlaneView(): DataPlaneView {
    return this.data.view();
  }

  async start(): Promise<this> {
    // The control state before the first request; the proxy starts even if the state file cannot
    // be written (the data plane never waits on the control plane).
    await this.plane.restore();
    this.proxyAddress = await this.data.listen(this.options.configFile);
    this.logger.info({ address: `http://${hostPort(this.proxyAddress)}`, routes: this.config.routes.length }, 'proxy listening');
    try {
      await this.plane.start();
    } catch (err) {
      await this.data.proxy.close(0);
      throw err;
    }
    return this;
  }

  /** The migration scorecard of every route, from this process's snapshots. */
  report(): Promise<Report> {
    return this.plane.report();
  }

  /**
   * Stop taking traffic the way load balancers expect: `/readyz` answers 503 at once; for
   * `drainMs` the proxy keeps accepting and serving with `Connection: close` on every response;
   * then the listener closes and in-flight requests get up to `graceMs` to finish. Resolves when
   * none is left. Defaults: shutdownDrainSeconds and shutdownGraceSeconds. Nothing else is closed:
   * close() does that, so whoever asks for a drain (the SIGTERM handler) decides when the process ends.
   */
  async drain(opts: { drainMs?: number; graceMs?: number } = {}): Promise<{ forced: number }> {
    const drainMs = opts.drainMs ?? this.config.shutdownDrainSeconds * 1000;
    const graceMs = opts.graceMs ?? this.config.shutdownGraceSeconds * 1000;
    if (!this.shuttingDown && drainMs > 0) this.logger.info({ drainMs, inFlight: this.proxy.inFlight }, 'drain: not ready; still accepting, every response says Connection: close');
    this.shuttingDown = true;
    const { forced } = await this.data.drain(drainMs, graceMs, this.logger);
    if (forced > 0) this.logger.warn({ forced, graceMs }, 'shutdown: grace period over, cut requests still in flight');
    return { forced };
  }

  /**
   * Stop accepting, let in-flight requests finish (up to graceMs), flush state, close everything.
   * Without a drain() before it, the listener closes at once (no drain period).
   */
  close(graceMs = this.config.shutdownGraceSeconds * 1000): Promise<void> {
    this.closing ??= (async () => {
      await this.drain({ drainMs: 0, graceMs });
      this.plane.stop();
      await this.data.close(graceMs);
      await this.plane.close();
    })();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

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

  /** A reloaded config in both planes. Throws (changing nothing) when the spec cannot be built, e.g. an unreadable token file. */
  applyDataPlane(effective: Config): void {
    this.data.apply(dataPlaneSpec(effective, this.options.configFile));
    this.plane.configure(effective);
  }
}

/** The one process's data plane as the control plane reads it: directly. */
function localPort(data: DataPlane, control: Control): DataPlanePort {
  return {
    stats: data.stats,
    figures: () => data.figures(),
    view: async () => data.view(),
    inFlight: async () => data.proxy.inFlight,
    parity: data.parity,
    paritySource: storeSource(data.parity),
    live: () => liveFromStats(data.stats, data.config.routes.map((r) => r.name), { inFlight: data.proxy.inFlight, nodes: nodeHealth(data.table.clusters) }),
    publish: () => ({ routes: data.wire(), requests: requestsServed(data.stats), totals: rampTotals(control, data.stats) }),
  };
}

export async function startApp(options: AppOptions): Promise<App> {
  return new App(options).start();
}

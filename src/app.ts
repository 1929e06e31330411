// The one place that creates and wires every component. Returns something you can start and close.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from './admin/server.js';
import { loadConfigFile } from './config/load.js';
import { isLoopback } from './config/net.js';
import { BACKENDS, type Config } from './config/schema.js';
import { Control, type Change, type Saved, type Source } from './control/control.js';
import { checkPersisted, type PersistedState } from './control/persisted.js';
import { CutoverError } from './errors.js';
import { GuardRunner } from './guard/runner.js';
import { RampRunner } from './ramp/runner.js';
import { buildReport, type Report } from './report/build.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { ProxyServer } from './proxy/server.js';
import type { NodeEvent } from './proxy/cluster.js';
import { nodeHealth, nodeHealthReporter } from './proxy/node-health.js';
import { compileOverride, type OverrideRule } from './proxy/override.js';
import { buildTable, retiredClusters, type RoutingTable } from './proxy/table.js';
import { FileStateStore } from './state/file-store.js';
import { Fleet } from './fleet/fleet.js';
import { Stats } from './stats/store.js';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface ReloadResult {
  applied: true;
  routesAdded: string[];
  routesRemoved: string[];
  backendsChanged: string[];
  guardChanged: boolean;
  warnings: string[];
  routes: Record<string, number>;
  changes: Change[];
  /** Whether the percentages it applied are on disk (false: see warnings). */
  persisted: boolean;
}

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
}

export class App {
  readonly logger: Logger;
  readonly stats: Stats;
  readonly control: Control;
  readonly proxy: ProxyServer;
  readonly metrics: Metrics;
  readonly guard: GuardRunner;
  readonly ramp: RampRunner;
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
    this.logger = options.logger ?? createLogger(config.log.level);
    const token = options.adminToken ?? adminToken(config, options.configFile);
    if (config.admin.enabled && !isLoopback(config.admin.host) && token === undefined) throw unprotectedAdmin(config);
    this.stats = new Stats(config.stats.windowSeconds, Math.max(config.stats.windowSeconds, config.guard.windowSeconds));
    this.stateFile = stateFilePath(config, options.configFile);
    const file = this.stateFile ? new FileStateStore<PersistedState>(this.stateFile, checkPersisted) : undefined;
    // Fleet mode: Redis is the truth and the file the replica's local copy; else the file alone.
    this.fleet = fleetConfigured(config) ? new Fleet({ config, stats: this.stats, logger: this.logger, file, replica: options.replica }) : undefined;
    this.control = new Control(config, this.fleet?.store ?? file, this.logger, options.clock);
    // One process restores from its file now; a replica reads the shared state in start().
    this.restored = this.fleet ? undefined : this.control.restore({ reset: options.resetState });
    // Metrics first: the clusters report node ejections to them from the first request on.
    this.metrics = createMetrics({ stats: this.stats, control: this.control, inFlight: () => this.proxy.inFlight, version: VERSION });
    this.fleet?.attach(this.control, this.metrics);
    this.onNodeEvent = nodeHealthReporter({ logger: this.logger, metrics: this.metrics, clusters: () => this.proxy.table.clusters });
    this.proxy = new ProxyServer({
      table: buildTable(config, this.control, this.stats, undefined, { override: overrideRule(config, options.configFile), onNodeEvent: this.onNodeEvent }),
      control: this.control,
      stats: this.stats,
      logger: this.logger,
    });
    this.ramp = new RampRunner(
      { stats: this.stats, control: this.control, logger: this.logger, metrics: this.metrics, clock: options.clock, intervalMs: options.rampIntervalMs, acting: () => this.fleet?.mode() !== 'follower' },
      config,
    );
    this.guard = new GuardRunner(
      { stats: this.stats, control: this.control, logger: this.logger, metrics: this.metrics, clock: options.clock, source: this.fleet, breach: this.ramp },
      config,
    );
    this.admin = config.admin.enabled
      ? createAdminServer({
          logger: this.logger,
          token,
          protectMetrics: config.admin.protectMetrics,
          control: this.control,
          stats: this.stats,
          registry: this.metrics.registry,
          inFlight: () => this.proxy.inFlight,
          ready: () => !this.shuttingDown,
          info: () => ({ version: VERSION, configFile: options.configFile, stateFile: this.stateFile, startedAt: this.startedAt }),
          routeConfigs: () => this.config.routes,
          guardStatus: () => this.guard.status(),
          ramp: this.ramp,
          report: () => this.report(),
          nodes: () => nodeHealth(this.proxy.table.clusters),
          fleet: this.fleet ? () => this.fleet!.status() : undefined,
          reload: options.configFile ? (by) => this.reload(by) : undefined,
        })
      : undefined;
  }

  get table(): RoutingTable {
    return this.proxy.table;
  }

  async start(): Promise<this> {
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
      await this.fleet.start(this.guard);
    }
    const { host, port } = this.config.listen;
    this.proxyAddress = await this.proxy.listen(host, port);
    this.logger.info({ address: `http://${hostPort(this.proxyAddress)}`, routes: this.config.routes.length }, 'proxy listening');
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
    this.ramp.start();
    return this;
  }

  /** The migration scorecard of every route, from this process's snapshots. */
  report(): Report {
    return buildReport({
      generatedAt: new Date().toISOString(),
      windowSeconds: this.stats.windowSeconds,
      sinceStartSeconds: (Date.now() - this.startedAt) / 1000,
      config: this.config.report,
      routes: this.config.routes.map((r) => ({ name: r.name, candidatePercent: this.control.percent(r.name) ?? 0, ...this.stats.routeSnapshot(r.name) })),
    });
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

  private async shutdown(graceMs: number): Promise<void> {
    await this.drain({ drainMs: 0, graceMs });
    this.guard.stop();
    this.ramp.stop();
    const { legacy, candidate } = this.proxy.table.clusters;
    await Promise.all([legacy.close(), candidate.close()]);
    await this.control.flush();
    await this.fleet?.close();
    await this.admin?.close();
    await this.guard.close();
    await this.ramp.close();
    this.metrics.close();
    this.logger.info({ stateFile: this.stateFile }, 'shutdown: done, state flushed');
  }

  /**
   * Re-read the config file and apply it to the next request: routes, backends, timeouts, guard
   * rules. In-flight requests and open connections are untouched; stats of routes that remain are
   * kept. Percentages already set (API, state file) stay unless `applyPercentages`; the file's
   * percentages apply to new routes. An invalid file changes nothing and throws ConfigError.
   */
  async reload(by: { source: Source; reason?: string; applyPercentages?: boolean }): Promise<ReloadResult> {
    if (!this.options.configFile) throw new CutoverError('NO_CONFIG_FILE', 409, 'this process was not started from a config file; nothing to reload');
    const { config: next } = loadConfigFile(this.options.configFile);
    const prev = this.config;
    const warnings: string[] = [];
    if (next.listen.host !== prev.listen.host || next.listen.port !== prev.listen.port) warnings.push('listen changed: restart to apply it');
    if (JSON.stringify(next.admin) !== JSON.stringify(prev.admin)) warnings.push('admin changed: restart to apply it');
    if (JSON.stringify(next.state) !== JSON.stringify(prev.state)) warnings.push('state changed: restart to apply it');
    if (next.stats.windowSeconds !== prev.stats.windowSeconds || next.guard.windowSeconds !== prev.guard.windowSeconds) {
      warnings.push('stats.windowSeconds / guard.windowSeconds changed: restart to apply them');
    }
    const effective: Config = { ...next, listen: prev.listen, admin: prev.admin, state: prev.state, stats: prev.stats, guard: { ...next.guard, windowSeconds: prev.guard.windowSeconds } };

    const before = new Set(prev.routes.map((r) => r.name));
    const names = new Set(effective.routes.map((r) => r.name));
    const added = effective.routes.filter((r) => !before.has(r.name)).map((r) => r.name);
    const removed = prev.routes.filter((r) => !names.has(r.name)).map((r) => r.name);
    const oldTable = this.proxy.table;
    const table = buildTable(effective, this.control, this.stats, oldTable, { override: overrideRule(effective, this.options.configFile), onNodeEvent: this.onNodeEvent });
    this.control.retainRoutes(names);
    this.stats.retain(names);
    this.proxy.setTable(table);
    this.config = effective;
    this.guard.configure(effective);
    this.ramp.configure(effective);
    this.logger.level = effective.log.level;
    // Pools the new table no longer uses finish their in-flight requests, then close.
    for (const c of retiredClusters(oldTable, table)) void c.close();

    const changes: Change[] = [];
    const saves: Array<Promise<unknown>> = [];
    let persisted = true;
    if (by.applyPercentages) {
      for (const r of effective.routes) {
        if (this.control.latch(r.name) && r.candidatePercent > 0) {
          warnings.push(`${r.name}: the guard is latched; its percentage stays at ${this.control.percent(r.name)} % until re-armed`);
          continue;
        }
        const applied = this.control.setSplit(r.candidatePercent, { route: r.name, source: by.source, reason: 'reload: percentages from the config file' });
        changes.push(...applied.changes);
        // A percentage that cannot be saved: a raise is undone, a lowering stays; the rest of the
        // reload (routes, backends) applies either way, so this is a warning, not an error.
        saves.push(
          applied.saved.then(
            (s) => {
              if (s.persisted || this.stateFile === undefined) return;
              persisted = false;
              warnings.push(`${r.name}: ${s.reason}`);
            },
            (err: Error) => {
              persisted = false;
              warnings.push(`${r.name}: percentage not applied: ${err.message}`);
            },
          ),
        );
      }
    }
    await Promise.all(saves);
    const backends = BACKENDS.filter((b) => JSON.stringify(prev.backends[b]) !== JSON.stringify(effective.backends[b]));
    const summary = { routesAdded: added, routesRemoved: removed, backendsChanged: backends, guardChanged: JSON.stringify(prev.guard) !== JSON.stringify(effective.guard) };
    changes.unshift(
      this.control.note({
        source: by.source,
        kind: 'config',
        from: { routes: [...before] },
        to: { routes: [...names], ...summary },
        reason: by.reason ?? 'config reload',
      }),
    );
    this.logger.info({ ...summary, warnings, file: this.options.configFile }, 'config reloaded');
    return {
      applied: true,
      ...summary,
      warnings,
      routes: Object.fromEntries(this.control.routes().map((r) => [r, this.control.percent(r) ?? 0])),
      changes,
      persisted: persisted && this.stateFile !== undefined,
    };
  }
}

export async function startApp(options: AppOptions): Promise<App> {
  return new App(options).start();
}

function hostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}


function unprotectedAdmin(config: Config): CutoverError {
  return new CutoverError(
    'ADMIN_UNPROTECTED',
    400,
    `admin.host is ${config.admin.host}, which is not loopback, and no admin token is set: anyone who can reach it could move traffic. Set CUTOVER_ADMIN_TOKEN or admin.tokenFile, or bind admin.host to 127.0.0.1.`,
  );
}

/**
 * What start would refuse in a config that the schema accepts: an unprotected admin listener, an
 * unreadable token file. `cutover validate` lists these with the schema's problems.
 */
export function startupProblems(config: Config, configFile: string | undefined): string[] {
  const out: string[] = [];
  let token: string | undefined;
  try {
    token = adminToken(config, configFile);
  } catch (err) {
    out.push((err as Error).message);
  }
  if (config.admin.enabled && !isLoopback(config.admin.host) && token === undefined && !out.length) out.push(unprotectedAdmin(config).message);
  try {
    overrideRule(config, configFile);
  } catch (err) {
    out.push((err as Error).message);
  }
  return out;
}

function adminToken(config: Config, configFile: string | undefined): string | undefined {
  const env = process.env.CUTOVER_ADMIN_TOKEN;
  if (env !== undefined && env.trim() !== '') return env.trim();
  if (config.admin.tokenFile === undefined) return undefined;
  const file = resolve(configFile ? dirname(configFile) : process.cwd(), config.admin.tokenFile);
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new CutoverError('ADMIN_TOKEN_FILE', 400, `admin.tokenFile: cannot read ${file}: ${(err as Error).message}`);
  }
  if (token === '') throw new CutoverError('ADMIN_TOKEN_FILE', 400, `admin.tokenFile: ${file} is empty`);
  return token;
}

/** Fleet mode is on when state.redis names a URL, or CUTOVER_REDIS_URL is set. */
function fleetConfigured(config: Config): boolean {
  const env = process.env.CUTOVER_REDIS_URL?.trim();
  return (env !== undefined && env !== '') || config.state.redis?.url !== undefined;
}

/** The override header's rule: undefined when it is off; the token from CUTOVER_OVERRIDE_TOKEN or overrideAuth.tokenFile. */
function overrideRule(config: Config, configFile: string | undefined): OverrideRule | undefined {
  if (config.overrideHeader === false) return undefined;
  const auth = config.overrideAuth;
  const fromEnv = process.env.CUTOVER_OVERRIDE_TOKEN?.trim();
  let token = fromEnv === '' ? undefined : fromEnv;
  if (token === undefined && auth?.tokenFile !== undefined) {
    const file = resolve(configFile ? dirname(configFile) : process.cwd(), auth.tokenFile);
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new CutoverError('OVERRIDE_TOKEN_FILE', 400, `overrideAuth.tokenFile: cannot read ${file}: ${(err as Error).message}`);
    }
    if (token === '') throw new CutoverError('OVERRIDE_TOKEN_FILE', 400, `overrideAuth.tokenFile: ${file} is empty`);
  }
  return compileOverride(config.overrideHeader, token, auth?.clients);
}

/** state.file, else cutover-state.json beside the config file; no file when there is no config file. */
function stateFilePath(config: Config, configFile: string | undefined): string | undefined {
  const base = configFile ? dirname(configFile) : process.cwd();
  if (config.state.file !== undefined) return resolve(base, config.state.file);
  return configFile ? resolve(base, 'cutover-state.json') : undefined;
}

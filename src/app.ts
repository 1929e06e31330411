// The one place that creates and wires every component. Returns something you can start and close.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config/schema.js';
import { Control } from './control/control.js';
import { checkPersisted, type PersistedState } from './control/persisted.js';
import { CutoverError } from './errors.js';
import { GuardRunner } from './guard/runner.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { ProxyServer } from './proxy/server.js';
import { buildTable, type RoutingTable } from './proxy/table.js';
import { FileStateStore } from './state/file-store.js';
import { Stats } from './stats/store.js';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

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
}

export class App {
  readonly logger: Logger;
  readonly stats: Stats;
  readonly control: Control;
  readonly proxy: ProxyServer;
  readonly metrics: Metrics;
  readonly guard: GuardRunner;
  readonly admin: FastifyInstance | undefined;
  readonly stateFile: string | undefined;
  config: Config;
  proxyAddress: AddressInfo | undefined;
  adminAddress: AddressInfo | undefined;
  readonly startedAt = Date.now();
  private shuttingDown = false;

  constructor(readonly options: AppOptions) {
    const config = (this.config = options.config);
    this.logger = options.logger ?? createLogger(config.log.level);
    const token = options.adminToken ?? adminToken(config, options.configFile);
    if (config.admin.enabled && !isLoopback(config.admin.host) && token === undefined) {
      throw new CutoverError(
        'ADMIN_UNPROTECTED',
        400,
        `admin.host is ${config.admin.host}, which is not loopback, and no admin token is set: anyone who can reach it could move traffic. Set CUTOVER_ADMIN_TOKEN or admin.tokenFile, or bind admin.host to 127.0.0.1.`,
      );
    }
    this.stats = new Stats(config.stats.windowSeconds, Math.max(config.stats.windowSeconds, config.guard.windowSeconds));
    this.stateFile = stateFilePath(config, options.configFile);
    const store = this.stateFile ? new FileStateStore<PersistedState>(this.stateFile, checkPersisted) : undefined;
    this.control = new Control(config, store, this.logger, options.clock);
    this.control.restore({ reset: options.resetState });
    this.proxy = new ProxyServer({ table: buildTable(config, this.control, this.stats), control: this.control, logger: this.logger });
    this.metrics = createMetrics({ stats: this.stats, control: this.control, inFlight: () => this.proxy.inFlight, version: VERSION });
    this.guard = new GuardRunner({ stats: this.stats, control: this.control, logger: this.logger, metrics: this.metrics, clock: options.clock }, config);
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
        })
      : undefined;
  }

  get table(): RoutingTable {
    return this.proxy.table;
  }

  async start(): Promise<this> {
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
    return this;
  }

  /** Stop accepting, let in-flight requests finish (up to graceMs), flush state, close everything. */
  async close(graceMs = this.config.shutdownGraceSeconds * 1000): Promise<void> {
    this.shuttingDown = true;
    this.guard.stop();
    await this.proxy.close(graceMs);
    const { legacy, candidate } = this.proxy.table.clusters;
    await Promise.all([legacy.close(), candidate.close()]);
    this.control.persist();
    await this.admin?.close();
    await this.guard.close();
    this.metrics.close();
  }
}

export async function startApp(options: AppOptions): Promise<App> {
  return new App(options).start();
}

function hostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
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

/** state.file, else cutover-state.json beside the config file; no file when there is no config file. */
function stateFilePath(config: Config, configFile: string | undefined): string | undefined {
  const base = configFile ? dirname(configFile) : process.cwd();
  if (config.state.file !== undefined) return resolve(base, config.state.file);
  return configFile ? resolve(base, 'cutover-state.json') : undefined;
}

// The one place that creates and wires every component. Returns something you can start and close.
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { Control } from './control/control.js';
import { createLogger, type Logger } from './log.js';
import { ProxyServer } from './proxy/server.js';
import { buildTable, type RoutingTable } from './proxy/table.js';
import { Stats } from './stats/store.js';

export interface AppOptions {
  config: Config;
  /** Absolute path of the config file, when there is one. */
  configFile?: string;
  logger?: Logger;
}

export class App {
  readonly logger: Logger;
  readonly stats: Stats;
  readonly control: Control;
  readonly proxy: ProxyServer;
  config: Config;
  proxyAddress: AddressInfo | undefined;
  readonly startedAt = Date.now();

  constructor(readonly options: AppOptions) {
    this.config = options.config;
    this.logger = options.logger ?? createLogger(this.config.log.level);
    this.stats = new Stats(this.config.stats.windowSeconds);
    this.control = new Control(this.config);
    this.proxy = new ProxyServer({ table: buildTable(this.config, this.control, this.stats), control: this.control, logger: this.logger });
  }

  get table(): RoutingTable {
    return this.proxy.table;
  }

  async start(): Promise<this> {
    const { host, port } = this.config.listen;
    this.proxyAddress = await this.proxy.listen(host, port);
    this.logger.info({ address: `http://${this.proxyAddress.address}:${this.proxyAddress.port}`, routes: this.config.routes.length }, 'proxy listening');
    return this;
  }

  /** Stop accepting, let in-flight requests finish (up to graceMs), close upstream pools. */
  async close(graceMs = 30_000): Promise<void> {
    await this.proxy.close(graceMs);
    const { legacy, candidate } = this.proxy.table.clusters;
    await Promise.all([legacy.close(), candidate.close()]);
  }
}

export async function startApp(options: AppOptions): Promise<App> {
  return new App(options).start();
}

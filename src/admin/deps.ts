// What the admin API is given: a view of the data plane (one process, or the workers merged).
import type { RouteConfig } from '../config/schema.js';
import type { Control, Source } from '../control/control.js';
import type { CaseLine } from '../parity/cases.js';
import type { ParitySnapshot } from '../parity/figures.js';
import type { RampRunner } from '../ramp/runner.js';
import type { Report } from '../report/build.js';
import type { RouteStats } from '../stats/store.js';

/** What the admin API shows of the data plane (one process, or the workers merged). */
export interface DataPlaneView {
  windowSeconds: number;
  inFlight: number;
  routes: Record<string, RouteStats>;
  nodes: unknown;
  /** Each backend's DNS discovery (state, last refresh, errors); null for a static cluster. */
  discovery?: unknown;
  /** With workers: each worker, its pid and what it served. */
  workers?: unknown;
}

export interface AdminDeps {
  control: Control;
  /** The Prometheus exposition (with workers: the primary's and every worker's, aggregated). */
  metrics(): Promise<string>;
  metricsContentType: string;
  /** Requests in flight (with workers: asked of every worker). */
  inFlight(): Promise<number>;
  /** Figures, nodes and (with workers) the workers, as GET /api/v1/status shows them. */
  dataPlane(): Promise<DataPlaneView>;
  ready(): boolean;
  info(): { version: string; configFile: string | undefined; stateFile: string | undefined; startedAt: number };
  routeConfigs(): readonly RouteConfig[];
  /** Guard status per route (the guard issue); undefined when the guard is off. */
  guardStatus?(): unknown;
  /** Fleet mode: replicas, leader, generation, the store's health; undefined for one process. */
  fleet?(): unknown;
  /** Ramps: status and operator commands (ramp/runner.ts). */
  ramp?: RampRunner;
  /** The migration scorecard. */
  report?(): Promise<Report>;
  /** Re-read the config file; throws ConfigError when it is invalid. */
  reload?(by: { source: Source; reason?: string; applyPercentages?: boolean }): Promise<unknown>;
  /** With workers: replace them with new ones running the code and config on disk (SIGUSR2). */
  restart?(by: { source: Source; reason?: string }): Promise<unknown>;
  /** Parity figures of the routes' shadow taps (admin/parity-routes.ts). */
  parity?: ParityPort;
}

/** What the routes read and reset: one process's ParityStore, or every worker's through the primary. */
export interface ParityPort {
  snapshot(): Record<string, ParitySnapshot> | Promise<Record<string, ParitySnapshot>>;
  /** Every route's figures back to zero (copies in flight still finish); the routes reset. */
  reset(): string[] | Promise<string[]>;
  /** The last sampled requests (a route's, or every route's); undefined: no such route with a shadow. Absent: no GET /api/v1/parity/cases. */
  cases?(route: string | undefined, limit: number | undefined): CaseLine[] | undefined | Promise<CaseLine[] | undefined>;
}

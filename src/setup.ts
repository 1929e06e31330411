// Start-up helpers shared by the one-process wiring (app.ts) and the workers' primary: the
// version, secrets and paths from the config, the checks start makes, and the views the admin
// API and the fleet are given. Nothing here holds state.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { DataPlaneView } from './admin/deps.js';
import { isLoopback } from './config/net.js';
import type { Config } from './config/schema.js';
import { pathFromConfig, readTokenFile } from './config/secrets.js';
import type { Control } from './control/control.js';
import { CutoverError } from './errors.js';
import type { RouteTotals } from './fleet/snapshots.js';
import { shadows, type ParitySource } from './parity/source.js';
import type { DataPlaneSpec } from './data-plane.js';
import { recordingThresholds, wireSpec } from './guard/thresholds.js';
import { buildReport, type Report } from './report/build.js';
import type { Stats } from './stats/store.js';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Requests the split sent to a backend since this process started (forced ones left out). */
export function requestsServed(stats: Stats): number {
  const s = stats.served();
  return s.legacy + s.candidate;
}

export function hostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}


function unprotectedAdmin(config: Config): CutoverError {
  return new CutoverError(
    'admin_unprotected',
    `admin.host is ${config.admin.host}, which is not loopback, and no admin token is set: anyone who can reach it could move traffic. Set CUTOVER_ADMIN_TOKEN or admin.tokenFile, or bind admin.host to 127.0.0.1.`,
  );
}

/** The routes whose ramp is under way (running or paused): their holds are judged on cumulative totals. */
export function rampingRoutes(control: Control): string[] {
  return control.routes().filter((route) => {
    const status = control.ramp(route)?.status;
    return status === 'running' || status === 'paused';
  });
}

/** Cumulative snapshots of the routes whose ramp is under way, for the fleet's leader to judge holds on. */
export function rampTotals(control: Control, stats: Stats): Record<string, RouteTotals> | undefined {
  const routes = rampingRoutes(control);
  return routes.length === 0 ? undefined : Object.fromEntries(routes.map((route) => [route, stats.totals(route)]));
}

/** The migration scorecard from a view of the data plane (this process's, or the workers' merged). */
export function reportOf(config: Config, control: Control, view: DataPlaneView, startedAt: number, parity?: ParitySource): Report {
  return buildReport({
    parity: parity && ((name) => (config.routes.some((r) => r.name === name && shadows(r, control)) ? parity(name) : undefined)),
    generatedAt: new Date().toISOString(),
    windowSeconds: view.windowSeconds,
    sinceStartSeconds: (Date.now() - startedAt) / 1000,
    config: config.report,
    routes: config.routes.flatMap((r) => {
      const figures = view.routes[r.name];
      return figures ? [{ name: r.name, candidatePercent: control.percent(r.name) ?? 0, ...figures }] : [];
    }),
  });
}

/** A non-loopback admin listener without a token would let anyone who reaches it move traffic. */
export function checkAdminProtected(config: Config, token: string | undefined): void {
  if (config.admin.enabled && !isLoopback(config.admin.host) && token === undefined) throw unprotectedAdmin(config);
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
    overrideSpec(config, configFile);
  } catch (err) {
    out.push((err as Error).message);
  }
  return out;
}

export function adminToken(config: Config, configFile: string | undefined): string | undefined {
  const env = process.env.CUTOVER_ADMIN_TOKEN;
  if (env !== undefined && env.trim() !== '') return env.trim();
  if (config.admin.tokenFile === undefined) return undefined;
  return readTokenFile(pathFromConfig(configFile, config.admin.tokenFile), 'admin.tokenFile');
}

/** Fleet mode is on when state.redis names a URL, or CUTOVER_REDIS_URL is set. */
export function fleetConfigured(config: Config): boolean {
  const env = process.env.CUTOVER_REDIS_URL?.trim();
  return (env !== undefined && env !== '') || config.state.redis?.url !== undefined;
}

/** The override header's rule as plain data: undefined when it is off; the token from CUTOVER_OVERRIDE_TOKEN or overrideAuth.tokenFile. */
export function overrideSpec(config: Config, configFile: string | undefined): DataPlaneSpec['override'] {
  if (config.overrideHeader === false) return undefined;
  const auth = config.overrideAuth;
  const fromEnv = process.env.CUTOVER_OVERRIDE_TOKEN?.trim();
  let token = fromEnv === '' ? undefined : fromEnv;
  if (token === undefined && auth?.tokenFile !== undefined) {
    token = readTokenFile(pathFromConfig(configFile, auth.tokenFile), 'overrideAuth.tokenFile');
  }
  return { header: config.overrideHeader, token, clients: auth?.clients ? [...auth.clients] : undefined };
}

/**
 * What the data plane is built from, compiled by the control plane: the config (validated), the
 * override's secret read, the guard's recording thresholds and wire spec. Throws (an unreadable
 * token file) before anything changed.
 */
export function dataPlaneSpec(config: Config, configFile: string | undefined): DataPlaneSpec {
  return { config, override: overrideSpec(config, configFile), thresholds: recordingThresholds(config), wire: wireSpec(config) };
}

/** state.file, else cutover-state.json beside the config file; no file when there is no config file. */
export function stateFilePath(config: Config, configFile: string | undefined): string | undefined {
  const base = configFile ? dirname(configFile) : process.cwd();
  if (config.state.file !== undefined) return resolve(base, config.state.file);
  return configFile ? resolve(base, 'cutover-state.json') : undefined;
}

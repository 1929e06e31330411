#!/usr/bin/env node
// Argument parsing and signals only; the work happens in app.ts and the modules it wires.
import cluster from 'node:cluster';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { App } from './app.js';
import { loadConfigFile } from './config/load.js';
import { ConfigSchema } from './config/schema.js';
import type { Fault } from './demo/backend.js';
import { runDemo } from './demo/run.js';
import { ConfigError, CutoverError, EXIT_CONFIG } from './errors.js';
import { adminTarget, callAdmin } from './client/admin-client.js';
import { renderGuard, renderStatus, type StatusBody } from './client/render.js';
import type { Source } from './control/control.js';
import { createLogger, type Logger } from './log.js';

type Options = NonNullable<ParseArgsConfig['options']>;

interface Command {
  summary: string;
  usage: string;
  options: Options;
  run(values: Record<string, string | boolean | (string | boolean)[] | undefined>, positionals: string[]): Promise<number>;
}

const adminOption: Options = { admin: { type: 'string' } };
const ADMIN_HELP = `

  --admin URL   the admin API (default: $CUTOVER_ADMIN_URL, else http://127.0.0.1:9901)
  The admin token is read from CUTOVER_ADMIN_TOKEN.`;

const DEFAULT_CONFIG = process.env.CUTOVER_CONFIG ?? 'config/cutover.yaml';
const configOption: Options = { config: { type: 'string', short: 'c', default: DEFAULT_CONFIG } };

const commands: Record<string, Command> = {
  start: {
    summary: 'start the proxy',
    usage: `cutover start [--config FILE] [--access-log]

  --config FILE   the YAML config (default: $CUTOVER_CONFIG, else config/cutover.yaml)
  --access-log    log one line per request (costs throughput)
  --reset-state   ignore the state file and start from the config's percentages`,
    options: { ...configOption, 'access-log': { type: 'boolean' }, 'reset-state': { type: 'boolean' } },
    async run(v) {
      // A cluster worker (workers: N) runs the same command: its config comes from the primary.
      // (Imported here: the control commands start faster without the cluster modules.)
      if (cluster.isWorker) {
        const { runWorker } = await import('./workers/worker.js');
        await runWorker();
        return new Promise<number>(() => {}); // it exits when drained
      }
      const { config, file } = loadConfigFile(String(v.config));
      if (v['access-log']) config.log.accessLog = true;
      const logger = createLogger(config.log.level);
      const options = { config, configFile: file, logger, resetState: v['reset-state'] === true };
      const { Primary, workerCount } = await import('./workers/primary.js');
      const app = workerCount(config) > 0 ? new Primary(options) : new App(options);
      try {
        await app.start();
      } catch (err) {
        // A refusal to start (Redis unreachable, a port taken): say why and exit now, without
        // waiting for the connections and timers a half-started process may still hold.
        const code = err instanceof CutoverError ? EXIT_CONFIG : 1;
        process.stderr.write(`cutover start: ${(err as Error).message}\n`);
        process.exit(code);
      }
      const code = await serveUntilSignal(app);
      // Everything is closed and the state flushed; do not wait for stray handles (webhook sockets).
      process.exit(code);
    },
  },
  validate: {
    summary: 'check a config file without starting anything',
    usage: `cutover validate [--config FILE]

  Exits 0 when the file is valid, 2 with every problem listed when it is not.`,
    options: configOption,
    async run(v) {
      const { config, file } = loadConfigFile(String(v.config));
      process.stdout.write(`${file}: valid (${config.routes.length} routes, ${config.backends.legacy.upstreams.length} legacy and ${config.backends.candidate.upstreams.length} candidate nodes)\n`);
      return 0;
    },
  },
  demo: {
    summary: 'run the built-in demo: two backends, the proxy, a bounded loopback load',
    usage: `cutover demo [--duration S] [--rate N] [--fault errors|latency|none] [--fault-after S] [--config FILE]

  --duration S     how long the load runs (default 60)
  --rate N         requests per second (default 200)
  --fault KIND     how the candidate goes bad: errors (500s), latency (50 × slower) or none (default errors)
  --fault-after S  when it goes bad (default 20)
  --config FILE    the demo config (default config/demo.yaml)`,
    options: {
      duration: { type: 'string', default: '60' },
      rate: { type: 'string', default: '200' },
      fault: { type: 'string', default: 'errors' },
      'fault-after': { type: 'string', default: '20' },
      config: { type: 'string', short: 'c' },
    },
    async run(v) {
      const durationSeconds = positiveNumber('--duration', v.duration);
      const rate = positiveNumber('--rate', v.rate);
      const fault = v.fault as Fault;
      if (!['errors', 'latency', 'none'].includes(fault)) throw new UsageError(`--fault must be errors, latency or none, got "${v.fault}"`);
      const faultAfterSeconds = positiveNumber('--fault-after', v['fault-after']);
      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runDemo({ durationSeconds, rate, fault, faultAfterSeconds, configFile: v.config as string | undefined, signal: ac.signal });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      return 0;
    },
  },
  status: {
    summary: 'show the split, maintenance, guard and per-backend figures',
    usage: `cutover status [--json] [--admin URL]${ADMIN_HELP}`,
    options: { json: { type: 'boolean' }, ...adminOption },
    async run(v) {
      const target = adminTarget(v.admin as string | undefined);
      const body = await callAdmin<StatusBody>(target, 'GET', '/api/v1/status');
      body.guard = await callAdmin<StatusBody['guard']>(target, 'GET', '/api/v1/guard').catch(() => undefined);
      if (v.json) process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      else process.stdout.write(renderStatus(body));
      return 0;
    },
  },
  set: {
    summary: 'set the candidate percentage (all routes, or one with --route)',
    usage: `cutover set PERCENT [--route NAME] [--reason TEXT] [--admin URL]${ADMIN_HELP}`,
    options: { route: { type: 'string' }, reason: { type: 'string' }, ...adminOption },
    async run(v, args) {
      if (args.length !== 1) throw new UsageError('give exactly one PERCENT, a number from 0 to 100');
      const candidatePercent = Number(args[0]);
      if (args[0].trim() === '' || !Number.isFinite(candidatePercent)) throw new UsageError(`PERCENT must be a number from 0 to 100, got "${args[0]}"`);
      const r = await callAdmin<{ routes: Record<string, number> }>(adminTarget(v.admin as string | undefined), 'PUT', '/api/v1/split', {
        candidatePercent,
        route: v.route,
        reason: v.reason,
      });
      warnNotSaved(r);
      printSplits(r.routes);
      return 0;
    },
  },
  promote: {
    summary: 'send 100 % to the candidate (all routes, or one with --route)',
    usage: `cutover promote [--route NAME] [--reason TEXT] [--admin URL]${ADMIN_HELP}`,
    options: { route: { type: 'string' }, reason: { type: 'string' }, ...adminOption },
    async run(v) {
      const r = await callAdmin<{ routes: Record<string, number> }>(adminTarget(v.admin as string | undefined), 'POST', '/api/v1/promote', {
        route: v.route,
        reason: v.reason,
      });
      warnNotSaved(r);
      printSplits(r.routes);
      return 0;
    },
  },
  rollback: {
    summary: 'send every route back to legacy (0 %) at once',
    usage: `cutover rollback --reason TEXT [--admin URL]${ADMIN_HELP}`,
    options: { reason: { type: 'string' }, ...adminOption },
    async run(v) {
      if (typeof v.reason !== 'string' || v.reason.trim() === '') throw new UsageError('--reason TEXT is required: say why you roll back');
      const r = await callAdmin<{ routes: Record<string, number> }>(adminTarget(v.admin as string | undefined), 'POST', '/api/v1/rollback', { reason: v.reason });
      warnNotSaved(r);
      printSplits(r.routes);
      return 0;
    },
  },
  maintenance: {
    summary: 'turn maintenance mode on or off (503 with Retry-After for every request)',
    usage: `cutover maintenance on|off [--retry-after S] [--message TEXT] [--admin URL]${ADMIN_HELP}`,
    options: { 'retry-after': { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' }, ...adminOption },
    async run(v, args) {
      if (args.length !== 1 || (args[0] !== 'on' && args[0] !== 'off')) throw new UsageError('say "on" or "off"');
      const body: Record<string, unknown> = { enabled: args[0] === 'on', message: v.message, reason: v.reason };
      if (v['retry-after'] !== undefined) body.retryAfterSeconds = Number(v['retry-after']);
      const r = await callAdmin<{ maintenance: { enabled: boolean; retryAfterSeconds: number } }>(
        adminTarget(v.admin as string | undefined),
        'POST',
        '/api/v1/maintenance',
        body,
      );
      warnNotSaved(r);
      process.stdout.write(`maintenance ${r.maintenance.enabled ? `ON (Retry-After ${r.maintenance.retryAfterSeconds} s)` : 'off'}\n`);
      return 0;
    },
  },
  drain: {
    summary: 'wait until no request is in flight (or the timeout)',
    usage: `cutover drain [--timeout S] [--admin URL]${ADMIN_HELP}`,
    options: { timeout: { type: 'string', default: '30' }, ...adminOption },
    async run(v) {
      const timeoutSeconds = Number(v.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) throw new UsageError(`--timeout must be a number of seconds, got "${v.timeout}"`);
      const r = await callAdmin<{ drained: boolean; finished: number; inFlight: number; waitedMs: number }>(
        adminTarget(v.admin as string | undefined),
        'POST',
        '/api/v1/drain',
        { timeoutSeconds },
      );
      process.stdout.write(
        r.drained
          ? `drained: ${r.finished} request(s) finished in ${r.waitedMs} ms, none in flight\n`
          : `timed out after ${r.waitedMs} ms: ${r.inFlight} request(s) still in flight\n`,
      );
      return r.drained ? 0 : 1;
    },
  },
  guard: {
    summary: 'guard status, or re-arm it after a revert (guard status | guard rearm)',
    usage: `cutover guard status [--json] | cutover guard rearm [--route NAME] [--reason TEXT]  [--admin URL]${ADMIN_HELP}

  After a revert the guard stays latched: re-arm it, then set a new split.`,
    options: { route: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' }, ...adminOption },
    async run(v, args) {
      const target = adminTarget(v.admin as string | undefined);
      if (args[0] === 'rearm' && args.length === 1) {
        const r = await callAdmin<{ changes: unknown[] }>(target, 'POST', '/api/v1/guard/rearm', { route: v.route, reason: v.reason });
      warnNotSaved(r);
        process.stdout.write(r.changes.length === 0 ? 'nothing to re-arm: no route is reverted\n' : `re-armed ${r.changes.length} route(s); set a new split with cutover set\n`);
        return 0;
      }
      if (args[0] === 'status' && args.length === 1) {
        const g = await callAdmin<NonNullable<StatusBody['guard']>>(target, 'GET', '/api/v1/guard');
        process.stdout.write(v.json ? JSON.stringify(g, null, 2) + '\n' : renderGuard(g));
        return 0;
      }
      throw new UsageError('say "guard status" or "guard rearm"');
    },
  },
  restart: {
    summary: 'replace the workers with new ones running the code and config on disk (same as SIGUSR2)',
    usage: `cutover restart [--reason TEXT] [--admin URL]${ADMIN_HELP}

  Needs workers: N (N >= 1). The primary keeps the listening socket: new workers start, and once
  they listen the old ones drain, so no connection is refused or reset.`,
    options: { reason: { type: 'string' }, ...adminOption },
    async run(v) {
      const r = await callAdmin<{ pid: number; started: number[]; stopped: number[]; changed: string[]; warnings: string[]; readyMs: number }>(
        adminTarget(v.admin as string | undefined),
        'POST',
        '/api/v1/restart',
        { reason: v.reason },
      );
      process.stdout.write(`restarted: workers ${r.started.join(', ')} serving (ready in ${r.readyMs} ms), ${r.stopped.join(', ')} draining; primary ${r.pid}\n`);
      process.stdout.write(`changed settings: ${r.changed.length === 0 ? 'none' : r.changed.join(', ')}\n`);
      for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
      return 0;
    },
  },
  reload: {
    summary: 'make a running cutover re-read its config file (same as SIGHUP)',
    usage: `cutover reload [--apply-percentages] [--reason TEXT] [--admin URL]${ADMIN_HELP}

  --apply-percentages   also set existing routes to the file's percentages (by default
                        they keep what the API and the state file say)`,
    options: { 'apply-percentages': { type: 'boolean' }, reason: { type: 'string' }, ...adminOption },
    async run(v) {
      const r = await callAdmin<{ routesAdded: string[]; routesRemoved: string[]; warnings: string[]; routes: Record<string, number> }>(
        adminTarget(v.admin as string | undefined),
        'POST',
        '/api/v1/config/reload',
        { reason: v.reason, applyPercentages: v['apply-percentages'] === true },
      );
      process.stdout.write(`reloaded: ${r.routesAdded.length} route(s) added, ${r.routesRemoved.length} removed\n`);
      for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
      printSplits(r.routes);
      return 0;
    },
  },
  schema: {
    summary: 'print the config JSON Schema (what config/cutover.schema.json holds)',
    usage: 'cutover schema',
    options: {},
    async run() {
      process.stdout.write(JSON.stringify(ConfigSchema, null, 2) + '\n');
      return 0;
    },
  },
};

class UsageError extends Error {}

function printSplits(routes: Record<string, number>): void {
  for (const [route, p] of Object.entries(routes)) process.stdout.write(`${route}: candidate ${p} %\n`);
}

/** A change in effect but not on disk (HTTP 202): the operator must know a restart would lose it. */
function warnNotSaved(body: unknown): void {
  const r = body as { persisted?: boolean; stateError?: string };
  if (r.persisted === false && r.stateError !== undefined) process.stderr.write(`warning: in effect but not saved: ${r.stateError}\n`);
}

function positiveNumber(flag: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `cutover: a traffic-splitting reverse proxy for migrations

Usage: cutover <command> [options]    (cutover <command> --help for its options)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}
`;
}

/** What `cutover start` runs: one process (App) or the primary of workers (Primary). */
interface Served {
  logger: Logger;
  close(): Promise<void>;
  reload(by: { source: Source; reason?: string }): Promise<unknown>;
  restart?(by: { source: Source; reason?: string }): Promise<unknown>;
}

/**
 * SIGTERM/SIGINT: graceful shutdown (not ready, stop accepting, finish in-flight requests, flush
 * state), exit 0. A second signal exits at once. SIGHUP: reload the config file. SIGUSR2: replace
 * the workers (workers: N). Node as PID 1 in a container gets no default signal handling, so all
 * of it is ours.
 */
function serveUntilSignal(app: Served): Promise<number> {
  const logger = app.logger;
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now without waiting for in-flight requests');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      app.close().then(
        () => resolve(0),
        (err) => {
          logger.error({ err: (err as Error).message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => {
      app.reload({ source: 'config', reason: 'SIGHUP' }).catch((err) =>
        logger.error({ issues: (err as ConfigError).issues ?? [(err as Error).message] }, 'config reload refused: nothing changed'),
      );
    });
    // Without workers there is nothing to replace; SIGUSR2's default (exit) would be a surprise.
    process.on('SIGUSR2', () => {
      if (!app.restart) return logger.warn('SIGUSR2: a restart without a gap needs workers: N (N >= 1); nothing done');
      app.restart({ source: 'config', reason: 'SIGUSR2' }).catch((err) =>
        logger.error({ issues: (err as ConfigError).issues ?? [(err as Error).message] }, 'restart refused: the old workers keep serving'),
      );
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? EXIT_CONFIG : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`cutover: unknown command "${name}"\n\n${help()}`);
    return EXIT_CONFIG;
  }
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    return await command.run(values, positionals);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cutover: invalid configuration: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    if (err instanceof CutoverError) {
      // Startup refusals (unprotected admin, unreadable token file) are configuration errors;
      // errors from the admin API are shown as the API's message.
      process.stderr.write(`cutover ${name}: ${err.message}\n`);
      return name === 'start' || name === 'validate' ? EXIT_CONFIG : 1;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`cutover ${name}: ${(err as Error).message}\n\n${command.usage}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`cutover ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`cutover: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

#!/usr/bin/env node
// Argument parsing and signals only; the work happens in app.ts and the modules it wires.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { App, startupProblems, VERSION } from './app.js';
import { loadConfigFile } from './config/load.js';
import { ConfigSchema } from './config/schema.js';
import type { Fault } from './demo/backend.js';
import { ConfigError, CutoverError, EXIT_CONFIG } from './errors.js';
import { positiveNumber, UsageError, type Command, type Options } from './commands/command.js';
import { controlCommands } from './commands/control.js';
import { dashboardCommands } from './commands/dashboard.js';
import { migrationCommands } from './commands/migration.js';
import { parityCommands } from './commands/parity.js';
import type { Source } from './control/control.js';
import { createLogger, defaultLogFormat, type Logger } from './log.js';
import { shadowWarnings } from './proxy/shadow.js';

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
      const { config, file } = loadConfigFile(String(v.config));
      if (v['access-log']) config.log.accessLog = true;
      const logger = createLogger(config.log.level, undefined, config.log.format ?? defaultLogFormat());
      const options = { config, configFile: file, logger, resetState: v['reset-state'] === true };
      // (The cluster primary's modules load only when there are workers: a single process does without.)
      const app = config.workers !== 0 ? new (await import('./workers/primary.js')).Primary(options) : new App(options);
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

  Exits 0 when the file is valid, 2 with every problem listed when it is not, including what
  start would refuse (a non-loopback admin without a token, an unreadable token file).`,
    options: configOption,
    async run(v) {
      const { config, file } = loadConfigFile(String(v.config), { extraChecks: startupProblems });
      for (const w of shadowWarnings(config.routes)) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`${file}: valid (${config.routes.length} routes, ${config.backends.legacy.upstreams.length} legacy and ${config.backends.candidate.upstreams.length} candidate nodes)\n`);
      return 0;
    },
  },
  demo: {
    summary: 'run the built-in demo: two backends, the proxy, a bounded loopback load',
    usage: `cutover demo [--duration S] [--rate N] [--fault errors|latency|none] [--fault-after S] [--config FILE]

  --duration S     how long the load runs (default 60)
  --rate N         requests per second (default 200)
  --fault KIND     how the candidate also goes bad: errors (500s), latency (50 × slower) or none
                   (default none: its wrong order totals are enough; parity catches them)
  --fault-after S  when it goes bad (default 20)
  --config FILE    the demo config (default config/demo.yaml)`,
    options: {
      duration: { type: 'string', default: '60' },
      rate: { type: 'string', default: '200' },
      fault: { type: 'string', default: 'none' },
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
        // Loaded on demand: the load generator is heavy, and only the demo needs it.
        const { runDemo } = await import('./demo/run.js');
        await runDemo({ durationSeconds, rate, fault, faultAfterSeconds, configFile: v.config as string | undefined, signal: ac.signal });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
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
  ...controlCommands,
  ...migrationCommands,
  ...dashboardCommands,
  ...parityCommands,
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `cutover: a traffic-splitting reverse proxy for migrations

Usage: cutover <command> [options]    (cutover <command> --help for its options; cutover --version)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}
`;
}

/** What `cutover start` runs: one process (App) or the primary of workers (Primary). */
interface Served {
  logger: Logger;
  drain(): Promise<unknown>;
  close(): Promise<void>;
  reload(by: { source: Source; reason?: string }): Promise<unknown>;
  restart?(by: { source: Source; reason?: string }): Promise<unknown>;
}

/**
 * SIGTERM/SIGINT: drain (not ready, keep serving with `Connection: close` for
 * shutdownDrainSeconds, stop accepting, finish in-flight requests), flush state, exit 0. A second
 * signal exits at once. SIGHUP: reload the config file. SIGUSR2: replace the workers (workers: N).
 * Node as PID 1 in a container gets no default signal handling, so all of it is ours.
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
      app
        .drain()
        .then(() => app.close())
        .then(
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
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`cutover ${VERSION}\n`);
    return 0;
  }
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

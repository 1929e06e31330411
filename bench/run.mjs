#!/usr/bin/env node
// `npm run bench`: measures cutover against baselines taken in the same run (straight to the
// backend, a bare undici proxy, and nginx when it is installed), prints a table and writes
// bench/results/<time>.json.
// Never fails on a timing: exits 0 unless something could not start (1), the arguments are wrong
// (2) or the run was interrupted (130). Everything listens on 127.0.0.1, every run is bounded in
// time, and every child process is stopped by its PID at the end, on error and on Ctrl-C.
//
// Where things run (2 cores, taskset available): this process (autocannon, in-process) and the
// backends on the first core, the proxy under test (cutover, bare undici or nginx) alone on the second.
//
// Scenarios are functions in bench/scenarios/ taking a context and returning plain data;
// bench/report.mjs renders them. A new scenario is one more entry below, with its time budget.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findNginx, nginxVersion } from './lib/nginx.mjs';
import { cpusAllowed, pinSelf } from './lib/pin.mjs';
import { Procs } from './lib/procs.mjs';
import { render, writeResults } from './report.mjs';
import { guardBudgetSeconds, guardScenario } from './scenarios/guard.mjs';
import { guardEvalScenario } from './scenarios/guard-eval.mjs';
import { fleetBudgetSeconds, fleetScenario } from './scenarios/fleet.mjs';
import { drainBudgetSeconds, drainScenario } from './scenarios/drain.mjs';
import { restartBudgetSeconds, restartScenario } from './scenarios/restart.mjs';
import { throughputScenario } from './scenarios/throughput.mjs';
import { costBudgetSeconds, costScenario } from './scenarios/cost.mjs';
import { dashboardBudgetSeconds, dashboardScenario } from './scenarios/dashboard.mjs';
import { WORKER_COUNTS, workersScenario } from './scenarios/workers.mjs';
import { nodesBudgetSeconds, nodesScenario } from './scenarios/nodes.mjs';
import { stallsBudgetSeconds, stallsScenario } from './scenarios/stalls.mjs';
import { shadowBudgetSeconds, shadowScenario } from './scenarios/shadow.mjs';

// In the order they run. budgetSeconds: the longest a scenario may take (the watchdog's sum).
const SCENARIOS = {
  // Each target: warm-up + measured run + start/stop; five targets per round, with room to spare.
  throughput: { run: throughputScenario, budgetSeconds: (o) => o.rounds * 5 * (o.warmupSeconds + o.durationSeconds + 25) + 30 },
  // cutover, bare undici and bare undici + cutover's libraries side by side on the proxy core, --rounds
  // times: CPU per request and peak RSS ratios that the machine's drift cannot swing.
  cost: { run: costScenario, budgetSeconds: costBudgetSeconds },
  guard: { run: guardScenario, budgetSeconds: guardBudgetSeconds },
  // In process, no servers: the guard's evaluation cost with 100 routes.
  'guard-eval': { run: guardEvalScenario, budgetSeconds: () => 60 },
  // Two replicas and a Redis (needs redis-server): time from the first failure to the last candidate request.
  fleet: { run: fleetScenario, budgetSeconds: fleetBudgetSeconds },
  // Five SIGTERMs under a mixed 400 req/s load, each a fresh cutover: lost requests per drain.
  drain: { run: drainScenario, budgetSeconds: drainBudgetSeconds },
  // Five SIGUSR2 restarts of one cutover with workers: 1 under the same load: lost requests per restart.
  restart: { run: restartScenario, budgetSeconds: restartBudgetSeconds },
  // A cluster of 2 and one of 200 DNS-discovered nodes side by side: CPU per request, 200 over 2.
  nodes: { run: nodesScenario, budgetSeconds: nodesBudgetSeconds },
  // cutover with workers: 1 and workers: 2: req/s and CPU per request of all its processes.
  workers: { run: workersScenario, budgetSeconds: (o) => WORKER_COUNTS.length * (o.warmupSeconds + o.durationSeconds + 40) + 30 },
  // Two cutovers side by side at 1,000 req/s each, one with 20 dashboards reading GET /api/v1/events: the CPU they add.
  dashboard: { run: dashboardScenario, budgetSeconds: dashboardBudgetSeconds },
  // Not in the default run (a diagnosis): workers: 0 and 1 with the probe timing every periodic
  // task, under a paced load then flat out: which stalls, when, and what ran then.
  stalls: { run: stallsScenario, budgetSeconds: stallsBudgetSeconds, optIn: true },
  // Three cutovers side by side: shadow off, at 100 %, at 100 % hanging: CPU per primary request and p99; then RSS with maxInFlight 1 MiB bodies.
  shadow: { run: shadowScenario, budgetSeconds: shadowBudgetSeconds },
};

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('results/', import.meta.url));

const USAGE = `Usage: node bench/run.mjs [options]      (npm run bench -- [options])

  --duration S      measured seconds per target (default 10; 3 with --quick)
  --connections N   autocannon connections (default 50)
  --warmup S        warm-up seconds before each measured run (default 2; 1 with --quick)
  --rounds N        throughput and cost: measure every target N times; medians and per-round
                    ratios (default 3; 1 with --quick)
  --guard-healthy S guard: healthy seconds before the candidate fails (default 35, so the guard's
                    30 s window is full of healthy history; 8 with --quick)
  --guard-runs N    guard: measurements, each with a fresh cutover (default 3; 1 with --quick)
  --quick           a short smoke run: --duration 3 --warmup 1 --rounds 1 --guard-healthy 8 --guard-runs 1
  --scenario NAME   run only this scenario (repeatable): ${Object.keys(SCENARIOS).join(', ')}
  --no-pin          do not pin processes to cores with taskset
  --cutover-root D  run the cutover built in D (D/dist/cli.js, e.g. another commit's checkout) instead
                    of this repository's, to compare builds with the same bench
  --baseline-root D cost: also run the cutover built in D (workers: 0 and 1) side by side with this
                    one, as targets cutover@base and cutover-workers-1@base (before/after in one run)
  --help            this text`;

class UsageError extends Error {}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'guard-healthy': { type: 'string' },
      'guard-runs': { type: 'string' },
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      'no-pin': { type: 'boolean', default: false },
      'cutover-root': { type: 'string' },
      'baseline-root': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const count = (flag, value, dflt, min) => {
    if (value === undefined) return dflt;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
  const scenarios = values.scenario ?? Object.keys(SCENARIOS).filter((s) => !SCENARIOS[s].optIn);
  for (const s of scenarios) if (!SCENARIOS[s]) throw new UsageError(`--scenario: unknown scenario "${s}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return {
    help: values.help,
    durationSeconds: count('duration', values.duration, values.quick ? 3 : 10, 1),
    connections: count('connections', values.connections, 50, 1),
    warmupSeconds: count('warmup', values.warmup, values.quick ? 1 : 2, 0),
    rounds: count('rounds', values.rounds, values.quick ? 1 : 3, 1),
    guardHealthySeconds: count('guard-healthy', values['guard-healthy'], values.quick ? 8 : 35, 1),
    guardRuns: count('guard-runs', values['guard-runs'], values.quick ? 1 : 3, 1),
    quick: values.quick,
    pin: !values['no-pin'],
    cutoverRoot: values['cutover-root'],
    baselineRoot: values['baseline-root'],
    scenarios,
  };
}

/** dist/ is what runs; say so when it is missing or older than src/. */
function checkBuild(log, root) {
  const cli = join(root, 'dist/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (or \`npx tsc -p .\`) first`);
  const built = statSync(cli).mtimeMs;
  const newest = readdirSync(join(root, 'src'), { recursive: true })
    .filter((f) => f.endsWith('.ts'))
    .reduce((m, f) => Math.max(m, statSync(join(root, 'src', f)).mtimeMs), 0);
  if (newest > built) log('warning: src/ has changed since dist/ was built; the bench runs dist/ (npm run build to refresh)');
}

function machine() {
  const require = createRequire(import.meta.url);
  const nginx = findNginx();
  return {
    node: process.version,
    cpuModel: cpus()[0]?.model,
    cpus: cpus().length,
    cpusAllowed: cpusAllowed(),
    autocannon: require('autocannon/package.json').version,
    nginx: nginx ? { path: nginx, version: nginxVersion(nginx) } : null,
  };
}

function describePins(pins) {
  if (!pins.pinned) return `not pinned (${pins.reason}): every process may run on any core`;
  return `pinned with taskset: proxy under test on CPU ${pins.proxyCpu}; this process (autocannon) and the backends on CPU ${pins.loadCpu} (this process now allows ${cpusAllowed()})`;
}

async function main(argv) {
  const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
  let opts;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError) && !err.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  checkBuild(log, opts.cutoverRoot ?? ROOT);

  const startedAt = new Date().toISOString();
  const pins = pinSelf(opts.pin);
  log(describePins(pins));

  const procs = new Procs();
  const tmpDir = mkdtempSync(join(tmpdir(), 'cutover-bench-'));
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (sig) => {
    if (++interrupts > 1) {
      procs.killAllSync();
      process.exit(130);
    }
    log(`${sig}: stopping (again to kill at once)`);
    ac.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const budgetSeconds = opts.scenarios.reduce((sum, name) => sum + SCENARIOS[name].budgetSeconds(opts), 0);
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${budgetSeconds} s, stopping`);
    ac.abort(new Error(`watchdog: run exceeded ${budgetSeconds} s`));
  }, budgetSeconds * 1000);
  watchdog.unref();

  const ctx = { opts, pins, procs, tmpDir, root: ROOT, cutoverRoot: opts.cutoverRoot, signal: ac.signal, log };
  const results = [];
  let failed = false;
  try {
    for (const name of opts.scenarios) {
      if (ac.signal.aborted) break;
      results.push(await SCENARIOS[name].run(ctx));
    }
  } catch (err) {
    failed = true;
    log(ac.signal.aborted ? String(ac.signal.reason?.message ?? ac.signal.reason) : `error: ${err.stack ?? err}`);
  } finally {
    clearTimeout(watchdog);
    await procs.stopAll();
    rmSync(tmpDir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (ac.signal.aborted && interrupts > 0) return 130;

  for (const r of results) process.stdout.write(`\n${render(r)}\n`);
  if (results.length > 0) {
    const run = { startedAt, finishedAt: new Date().toISOString(), options: opts, machine: machine(), pinning: pins, results };
    process.stdout.write(`\nfigures written to ${writeResults(RESULTS_DIR, run)}\n`);
  }
  return failed || results.some((r) => r.failures?.length > 0) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  },
);

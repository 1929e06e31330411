#!/usr/bin/env node
// `npm run scenarios`: the guard's labelled scenarios (scenarios.mjs), each with fresh backends,
// a fresh cutover process (dist/, so `npm run build` first) and paced load. Prints a table (should
// it revert, did it, how long after the first bad candidate answer, how many candidate requests
// failed before) and writes bench/results/scenarios-<time>.json.
// Like the bench, it measures and never fails CI: exit 0 when every scenario met its expectation,
// 1 when one did not or could not run, 2 on bad arguments, 130 on Ctrl-C. Every child process is
// stopped by its PID (bench/lib/procs.mjs); a watchdog bounds the whole run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Procs } from '../lib/procs.mjs';
import { budgetSeconds, phases, runScenario } from './scenario.mjs';
import { SCENARIOS } from './scenarios.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

const USAGE = `Usage: npm run scenarios -- [options]

  --only a,b     run only these scenarios (${SCENARIOS.map((s) => s.name).join(', ')})
  --repeat N     run each scenario that must not revert N times (default 1)
  --quick        healthy history 5 s, observations 10 s (targets for slow failures still apply)
  --help         this text`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { only: { type: 'string' }, repeat: { type: 'string', default: '1' }, quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be an integer >= 1, got ${JSON.stringify(values.repeat)}`);
  const only = values.only?.split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of only ?? []) if (!SCENARIOS.some((s) => s.name === n)) throw new Error(`--only: unknown scenario "${n}"`);
  return { help: values.help, repeat, quick: values.quick, only };
}

const fmtMs = (x) => (x === null ? '–' : String(Math.round(x)));

function row(r) {
  if (r.error) return [r.label, r.shouldRevert ? 'yes' : 'no', `error: ${r.error.split('\n')[0].slice(0, 60)}`, '–', '–', '–', 'FAIL'];
  const outcome = r.reverted ? `reverted (${r.rule})` : 'not reverted';
  const failed = r.shouldRevert ? `${r.candidateFailedBeforeRevert} of ${r.candidateRequestsBeforeRevert}` : `${r.candidateFailedBeforeRevert} of ${r.candidateRequestsBeforeRevert}`;
  return [r.label, r.shouldRevert ? 'yes' : 'no', outcome, fmtMs(r.reactionMs), r.targetMs === null ? '–' : `≤ ${r.targetMs}`, failed, r.verdict];
}

/** A markdown table (it reads as a plain table in a terminal too). */
export function table(runs) {
  const head = ['scenario', 'should revert?', 'outcome (rule)', 'first bad → revert (ms)', 'target (ms)', 'candidate requests failed before revert', 'result'];
  const rows = [head, head.map(() => '---'), ...runs.map(row)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => `| ${r.map((c, i) => (c === '---' ? '-'.repeat(widths[i]) : String(c).padEnd(widths[i]))).join(' | ')} |`).join('\n');
}

function settingsLine(g) {
  if (!g) return '';
  const r = g.rules;
  return `guard defaults used: intervalMs ${g.intervalMs}, windowSeconds ${g.windowSeconds}, fastWindowSeconds ${g.fastWindowSeconds}, minRequests ${g.minRequests}, confidence ${g.confidence}, consecutive ${g.consecutive}, rules maxErrorRate ${r.maxErrorRate}, maxP99Ms ${r.maxP99Ms}, maxP99Ratio ${r.maxP99Ratio}, maxErrorRateDelta ${r.maxErrorRateDelta}; responseMs ${g.responseMs.candidate}`;
}

function overridesLine(s) {
  const parts = [];
  const walk = (o, path) => {
    for (const [k, v] of Object.entries(o)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v, `${path}${k}.`);
      else parts.push(`${path}${k}: ${JSON.stringify(v)}`);
    }
  };
  walk(s.config ?? {}, '');
  if (s.candidatePercent !== undefined) parts.push(`candidatePercent: ${s.candidatePercent}`);
  return parts.join(', ');
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const chosen = SCENARIOS.filter((s) => !opts.only || opts.only.includes(s.name));
  // Must-revert scenarios once, must-not-revert ones `repeat` times, in the order listed.
  const plan = chosen.flatMap((s) => (s.shouldRevert || opts.repeat === 1 ? [{ s, label: s.name }] : Array.from({ length: opts.repeat }, (_, i) => ({ s, label: `${s.name} #${i + 1}` }))));
  const budget = plan.reduce((k, p) => k + budgetSeconds(p.s, opts), 0) + 30;
  const procs = new Procs();
  const ac = new AbortController();
  const tmpDir = mkdtempSync(join(tmpdir(), 'cutover-scenarios-'));
  const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 23)}] ${msg}`);
  const cleanUp = () => {
    procs.killAllSync();
    rmSync(tmpDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    log('interrupted: stopping every child process');
    ac.abort(new Error('interrupted'));
    cleanUp();
    process.exit(130);
  });
  const watchdog = setTimeout(() => {
    log(`watchdog: the suite took longer than ${budget} s; stopping`);
    cleanUp();
    process.exit(1);
  }, budget * 1000);
  watchdog.unref();

  log(`${plan.length} runs, at most ~${Math.round(budget / 60)} min (watchdog); ${cpus().length} cores`);
  const runs = [];
  const startedAt = new Date();
  for (const { s, label } of plan) {
    const { healthy, after } = phases(s, opts);
    log(`${label}: ${s.shouldRevert ? 'must revert' : 'must not revert'}; healthy ${healthy} s, then ${after} s`);
    // Each run has its own watchdog too: one stuck scenario must not eat the others' time.
    const own = AbortSignal.any([ac.signal, AbortSignal.timeout(budgetSeconds(s, opts) * 1000)]);
    try {
      const r = await runScenario(s, { procs, root: ROOT, tmpDir, opts, signal: own, log }, label.replace(/[^\w.-]+/g, '_'));
      r.label = label;
      runs.push(r);
      log(`${label}: ${r.reverted ? `reverted (${r.rule}) ${fmtMs(r.reactionMs)} ms after the first bad answer` : 'not reverted'}; ${r.verdict}${r.reverted ? '' : `; last verdict: ${r.lastVerdict?.kind}`}`);
    } catch (err) {
      if (ac.signal.aborted) break;
      log(`${label}: could not run: ${err.stack ?? err}`);
      runs.push({ label, scenario: s.name, shouldRevert: s.shouldRevert, error: String(err.message ?? err), verdict: 'FAIL' });
      await procs.stopAll();
    }
  }
  clearTimeout(watchdog);
  await procs.stopAll();
  rmSync(tmpDir, { recursive: true, force: true });

  const settings = runs.find((r) => r.settings && !SCENARIOS.find((s) => s.name === r.scenario)?.config)?.settings ?? runs.find((r) => r.settings)?.settings;
  console.log(`\n${table(runs)}\n`);
  console.log(settingsLine(settings));
  for (const s of chosen) {
    const o = overridesLine(s);
    if (o) console.log(`  ${s.name}: ${o}`);
  }
  const passed = runs.filter((r) => r.verdict === 'pass').length;
  console.log(`\n${passed} of ${runs.length} runs met their expectation (${((Date.now() - startedAt) / 60_000).toFixed(1)} min)`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `scenarios-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const scenarios = chosen.map((s) => ({ name: s.name, shouldRevert: s.shouldRevert, targetMs: s.targetMs ?? null, healthySeconds: phases(s, opts).healthy, seconds: phases(s, opts).after, overrides: s.config ?? {}, load: s.load }));
  writeFileSync(file, JSON.stringify({ startedAt: startedAt.toISOString(), options: opts, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version }, guardDefaults: settings, scenarios, runs }, null, 2) + '\n');
  console.log(`results: ${file}`);
  return passed === runs.length ? 0 : 1;
}

process.exitCode = await main();

// The cost scenario: what cutover costs per request and in memory against the bare undici proxy,
// measured side by side. Both proxies (and the bare proxy with cutover's libraries loaded) run at
// the same time on the proxy core, each in front of its own pair of backends and under its own
// autocannon load of the same shape, so that whatever the machine does during a run (another
// tenant, a frequency change) hits all of them alike. On a shared machine, one run of each after
// the other swung the CPU ratio between 1.04x and 1.39x; side by side the rounds agree within a
// few percent. Ratios are taken within each round; the median over the rounds is the figure.
// Issue 19 added `cutover workers: 1` (its primary and worker both on the proxy core; CPU is the
// sum of both, RSS the worker's and the pod's), and per target: p99 latency and req/s (side by
// side, so shares of one core: compare them within a round only), the event loop's delay (the
// probe, bench/lib/loop-delay-probe.mjs, preloaded into every Node.js target alike: in the warm-up,
// i.e. the first seconds of the process under load, and in the measured run), start-up time (spawn
// to ready) and peak RSS. `budget` holds issue 19's table from the medians.
import { servedCount, startBackend } from '../lib/backends.mjs';
import { startBareUndici } from '../lib/bare-undici-proxy.mjs';
import { median, ratio } from '../lib/compare.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { runLoad } from '../lib/load.mjs';
import { startPacedLoad } from '../lib/paced-load.mjs';
import { cpuSeconds, memoryOf } from '../lib/pin.mjs';
import { childPids, markPhase, probeDir } from '../lib/probe.mjs';

const CANDIDATE_PERCENT = 10;
export const COST_TARGETS = ['cutover', 'cutover-workers-1', 'bare-undici', 'bare-undici+libs'];
/** With --baseline-root: the same two cutovers built from that checkout, side by side with these (before/after in one run). */
const BASE_TARGETS = ['cutover@base', 'cutover-workers-1@base'];
const targetsOf = (o) => [...COST_TARGETS, ...(o.baselineRoot ? BASE_TARGETS : [])];

/** The paced load each target gets alone right after it starts (issue 19: a quarter of capacity). */
const PACED = { rate: 1500, warmupSeconds: 1, earlySeconds: 6, settledSeconds: 6 };
const soloSeconds = (o) => Math.max(3, Math.ceil(o.durationSeconds / 2));

export function costBudgetSeconds(o) {
  const solo = PACED.warmupSeconds + PACED.earlySeconds + PACED.settledSeconds + soloSeconds(o) + 15;
  return o.rounds * (targetsOf(o).length * solo + o.warmupSeconds + o.durationSeconds + 60) + 30;
}

export async function costScenario(ctx) {
  const { connections, durationSeconds, warmupSeconds, rounds } = ctx.opts;
  const result = { scenario: 'cost', connections, durationSeconds, warmupSeconds, rounds, pinned: ctx.pins.pinned, runs: [], failures: [], notes: [] };
  for (let round = 1; round <= rounds; round++) {
    if (ctx.signal.aborted) break;
    ctx.log(`cost: round ${round} of ${rounds}: ${targetsOf(ctx.opts).join(', ')} side by side, ${connections} connections each`);
    const started = [];
    try {
      const solo = {};
      // Started (and measured alone) in an order rotated every round: on a shared machine the
      // load of the other tenants drifts over a round, and a fixed order would hand it to the same targets.
      const all = targetsOf(ctx.opts);
      const order = all.map((_, i) => all[(i + round - 1) % all.length]);
      for (const target of order) {
        const t = await startTarget(ctx, target, round);
        started.push(t);
        solo[target] = await measureAlone(ctx, t);
      }
      const together = await measureTogether(ctx, started);
      result.runs.push({ round, targets: Object.fromEntries(Object.entries(together).map(([k, v]) => [k, { ...v, alone: solo[k] }])) });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`round ${round}: ${err.message}`);
    } finally {
      for (const t of started) await Promise.all([t.proxy, ...t.backends].map((p) => ctx.procs.stop(p.proc)));
      if (round < rounds) ctx.log(`cost: round ${round}: ${JSON.stringify(summary(result.runs.at(-1)))}`);
    }
  }
  const perRound = (target, get, base = 'bare-undici') => result.runs.map((r) => ratio(get(r.targets[target]), get(r.targets[base])));
  const cpu = (t) => t?.cpuUsPerRequest;
  const rss = (t) => t?.peakRssMiB;
  const p99 = (t) => t?.p99Ms;
  const rps = (t) => t?.reqPerSec;
  result.ratios = {
    cpuPerRequestVsBareUndici: perRound('cutover', cpu),
    peakRssVsBareUndici: perRound('cutover', rss),
    p99VsBareUndici: perRound('cutover', p99),
    workersCpuPerRequestVsBareUndici: perRound('cutover-workers-1', cpu),
    workerPeakRssVsBareUndici: perRound('cutover-workers-1', rss),
    workersP99VsBareUndici: perRound('cutover-workers-1', p99),
    workersReqPerSecVsSingle: perRound('cutover-workers-1', (t) => t?.alone?.saturated?.reqPerSec, 'cutover'),
    settledP99VsBareUndici: perRound('cutover', (t) => t?.alone?.settled?.p99Ms),
    earlyP99VsBareUndici: perRound('cutover', (t) => t?.alone?.early?.p99Ms),
    workersSettledP99VsBareUndici: perRound('cutover-workers-1', (t) => t?.alone?.settled?.p99Ms),
    workersEarlyP99VsBareUndici: perRound('cutover-workers-1', (t) => t?.alone?.early?.p99Ms),
    libsCpuPerRequestVsBareUndici: perRound('bare-undici+libs', cpu),
    libsPeakRssVsBareUndici: perRound('bare-undici+libs', rss),
  };
  result.medians = Object.fromEntries(Object.entries(result.ratios).map(([k, xs]) => [k, median(xs)]));
  // Every target against the bare proxy, per round then the median: the table's "x bare" columns.
  result.vsBare = Object.fromEntries(
    targetsOf(ctx.opts).map((t) => [t, { cpu: median(perRound(t, cpu)), rss: median(perRound(t, rss)), p99: median(perRound(t, p99)) }]),
  );
  const med = (t, get) => median(result.runs.map((r) => get(r.targets[t] ?? {})));
  result.figures = Object.fromEntries(
    targetsOf(ctx.opts).map((t) => [
      t,
      {
        reqPerSec: med(t, rps),
        p99Ms: med(t, p99),
        cpuUsPerRequest: med(t, cpu),
        peakRssMiB: med(t, rss),
        podPeakRssMiB: med(t, (x) => x.podPeakRssMiB),
        primaryCpuShare: med(t, (x) => x.primaryCpuShare),
        startupMs: med(t, (x) => x.startupMs),
        warmupLoopDelay: { p99Ms: med(t, (x) => x.loopDelay?.warmup?.p99Ms), maxMs: med(t, (x) => x.loopDelay?.warmup?.maxMs) },
        loopDelay: { p99Ms: med(t, (x) => x.loopDelay?.measured?.p99Ms), maxMs: med(t, (x) => x.loopDelay?.measured?.maxMs) },
        alone: Object.fromEntries(
          ['early', 'settled', 'saturated'].map((phase) => [
            phase,
            {
              reqPerSec: med(t, (x) => x.alone?.[phase]?.reqPerSec),
              p99Ms: med(t, (x) => x.alone?.[phase]?.p99Ms),
              loopDelayP99Ms: med(t, (x) => x.alone?.[phase]?.loopDelay?.p99Ms),
              loopDelayMaxMs: med(t, (x) => x.alone?.[phase]?.loopDelay?.maxMs),
              onCpuP99Ms: med(t, (x) => x.alone?.[phase]?.onCpu?.p99Ms),
              onCpuMaxMs: med(t, (x) => x.alone?.[phase]?.onCpu?.maxMs),
            },
          ]),
        ),
      },
    ]),
  );
  result.budget = budgetTable(result);
  return result;
}

/** Issue 19's budget table from the medians (null where a figure is missing). `today` is the issue's. */
function budgetTable(r) {
  const m = r.medians;
  const f = r.figures;
  const worst = (xs) => (xs.filter((x) => x !== null).length ? Math.max(...xs.filter((x) => x !== null)) : null);
  const ld = (t) => f[t]?.alone?.settled?.loopDelayP99Ms ?? null;
  const early = (t) => f[t]?.alone?.early?.loopDelayP99Ms ?? null;
  return [
    { figure: `p99 alone at ${PACED.rate} req/s, early ${PACED.earlySeconds} s after start, vs bare undici (median; worst round)`, budget: '-', value: m.earlyP99VsBareUndici, worst: worst(r.ratios.earlyP99VsBareUndici), unit: 'x' },
    { figure: `p99 alone at ${PACED.rate} req/s, settled, vs bare undici (median; worst round)`, budget: '-', value: m.settledP99VsBareUndici, worst: worst(r.ratios.settledP99VsBareUndici), unit: 'x' },
    { figure: `workers: 1 p99 alone, early / settled, vs bare undici`, budget: '-', value: m.workersEarlyP99VsBareUndici, worst: m.workersSettledP99VsBareUndici, unit: 'x', pair: true },
    { figure: 'event-loop delay p99 early (first 6 s under load), single process / worker', budget: '<= 5 ms', value: early('cutover'), second: early('cutover-workers-1'), unit: 'ms' },
    { figure: `p99 side by side, saturated, ${r.pinned ? 'pinned' : 'unpinned'}, vs bare undici (median; worst round)`, budget: r.pinned ? '<= 1.3x, no round over 2x' : '<= 1.2x', value: m.p99VsBareUndici, worst: worst(r.ratios.p99VsBareUndici), unit: 'x' },
    { figure: `p99 side by side, workers: 1 vs bare undici (median; worst round)`, budget: '-', value: m.workersP99VsBareUndici, worst: worst(r.ratios.workersP99VsBareUndici), unit: 'x' },
    { figure: `event-loop delay p99 under load (${PACED.rate} req/s, settled), single process / worker`, budget: '<= 5 ms', value: ld('cutover'), second: ld('cutover-workers-1'), unit: 'ms' },
    { figure: 'event-loop delay p99, bare undici (reference): early / settled', budget: '-', value: early('bare-undici'), second: ld('bare-undici'), unit: 'ms' },
    { figure: 'on-CPU loop delay p99 early, single process / worker / bare', budget: '-', value: f.cutover?.alone?.early?.onCpuP99Ms, second: f['cutover-workers-1']?.alone?.early?.onCpuP99Ms, third: f['bare-undici']?.alone?.early?.onCpuP99Ms, unit: 'ms' },
    { figure: 'on-CPU loop delay p99 settled, single process / worker / bare', budget: '-', value: f.cutover?.alone?.settled?.onCpuP99Ms, second: f['cutover-workers-1']?.alone?.settled?.onCpuP99Ms, third: f['bare-undici']?.alone?.settled?.onCpuP99Ms, unit: 'ms' },
    { figure: 'worker CPU per request vs bare undici (primary + worker)', budget: '<= 1.05x', value: m.workersCpuPerRequestVsBareUndici, unit: 'x' },
    { figure: 'worker peak RSS vs bare undici', budget: '<= 1.15x', value: m.workerPeakRssVsBareUndici, unit: 'x' },
    { figure: 'workers: 1 req/s vs workers: 0, each alone flat out, same round', budget: '>= 1.0x', value: m.workersReqPerSecVsSingle, unit: 'x' },
    { figure: 'single process CPU per request vs bare undici', budget: '<= 1.10x', value: m.cpuPerRequestVsBareUndici, unit: 'x' },
    { figure: 'single process peak RSS vs bare undici', budget: '<= 1.25x', value: m.peakRssVsBareUndici, unit: 'x' },
    { figure: 'primary CPU under load, share of the worker\'s', budget: '<= 5 %', value: f['cutover-workers-1']?.primaryCpuShare ?? null, unit: '%' },
  ];
}

async function startTarget(ctx, target, round) {
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const backends = [legacy, candidate];
  const upstreams = [{ url: legacy.url, weight: 100 - CANDIDATE_PERCENT }, { url: candidate.url, weight: CANDIDATE_PERCENT }];
  const name = `${target}-cost-${round}`;
  const probe = { dir: probeDir(ctx, name.replace('@', '-')) };
  try {
    const root = target.endsWith('@base') ? ctx.opts.baselineRoot : undefined;
    const proxy = target.startsWith('cutover')
      ? await startCutover(ctx, { legacy, candidate, candidatePercent: CANDIDATE_PERCENT, name: name.replace('@', '-'), admin: true, workers: target.startsWith('cutover-workers-1') ? 1 : undefined, probe, root })
      : await startBareUndici(ctx, { upstreams, name, withLibs: target === 'bare-undici+libs', probe });
    // The primary says "proxy listening" once its worker listens: the worker's pid is there by now.
    const workers = childPids(proxy.pid);
    const phases = { startup: await markPhase(probe.dir, [proxy.pid, ...workers]) };
    return { target, proxy, backends, probe, workers, phases };
  } catch (err) {
    await Promise.all(backends.map((b) => ctx.procs.stop(b.proc)));
    throw err;
  }
}

/**
 * One target alone on the proxy core (the others started and idle), right after its start: the
 * issue's paced protocol (1 s warm-up, the early 6 s, the settled 6 s at 1,500 req/s) with p99 and
 * the serving process's loop delay per phase, then flat out for a few seconds (its own req/s:
 * workers: 1 against workers: 0 cannot be compared side by side, where two processes get two
 * shares of the core).
 */
async function measureAlone(ctx, t) {
  const pids = [t.proxy.pid, ...t.workers];
  const serving = t.workers.length > 0 ? t.workers[0] : t.proxy.pid;
  const out = {};
  const paced = async (seconds) => {
    const load = startPacedLoad({ url: t.proxy.url, rate: PACED.rate, connections: 20, maxSeconds: seconds, signal: ctx.signal });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return load.stop();
  };
  for (const [phase, seconds] of [['warmup', PACED.warmupSeconds], ['early', PACED.earlySeconds], ['settled', PACED.settledSeconds]]) {
    const figures = await paced(seconds);
    const marks = await markPhase(t.probe.dir, pids);
    out[phase] = { p99Ms: figures.latencyMs.p99, maxMs: figures.latencyMs.max, errors: figures.errors, loopDelay: marks[serving]?.loopDelay, onCpu: marks[serving]?.onCpu, primaryLoopDelay: t.workers.length > 0 ? marks[t.proxy.pid]?.loopDelay : undefined };
  }
  if (t.target !== 'bare-undici+libs') {
    const load = await runLoad({ url: t.proxy.url, connections: ctx.opts.connections, durationSeconds: soloSeconds(ctx.opts), signal: ctx.signal });
    const marks = await markPhase(t.probe.dir, pids);
    out.saturated = { reqPerSec: load.reqPerSec, p99Ms: load.latencyMs.p99, loopDelay: marks[serving]?.loopDelay, onCpu: marks[serving]?.onCpu };
  }
  return out;
}

async function measureTogether(ctx, started) {
  const { connections, durationSeconds, warmupSeconds } = ctx.opts;
  const load = (seconds) => Promise.all(started.map((t) => runLoad({ url: t.proxy.url, connections, durationSeconds: seconds, signal: ctx.signal })));
  const served = async (t) => (await Promise.all(t.backends.map(servedCount))).reduce((a, b) => a + b, 0);
  const pids = (t) => [t.proxy.pid, ...t.workers];
  const mark = (phase) => Promise.all(started.map(async (t) => (t.phases[phase] = await markPhase(t.probe.dir, pids(t)))));
  if (warmupSeconds > 0) await load(warmupSeconds);
  await mark('warmup');
  const before = await Promise.all(started.map(async (t) => ({ cpu: pids(t).map(cpuSeconds), served: await served(t) })));
  const loads = await load(durationSeconds);
  await mark('measured');
  const out = {};
  const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
  for (const [i, t] of started.entries()) {
    const requests = (await served(t)) - before[i].served;
    const cpus = pids(t).map((pid, k) => cpuSeconds(pid) - before[i].cpu[k]);
    const cpu = cpus.reduce((a, b) => a + b, 0);
    const failed = loads[i].errors + loads[i].timeouts + loads[i].non2xx;
    if (failed > 0) throw new Error(`${t.target}: ${failed} requests failed (${JSON.stringify(loads[i].statusCodes)})`);
    const peaks = pids(t).map((pid) => memoryOf(pid).peak);
    // The process that serves: the worker when there is one. Its loop delay is the one requests wait on.
    const serving = t.workers.length > 0 ? t.workers[0] : t.proxy.pid;
    const delay = (phase, pid) => t.phases[phase]?.[pid]?.loopDelay;
    out[t.target] = {
      requests,
      reqPerSec: loads[i].reqPerSec,
      p99Ms: loads[i].latencyMs.p99,
      latencyMs: loads[i].latencyMs,
      cpuUsPerRequest: requests > 0 ? Math.round((cpu * 1e6 * 10) / requests) / 10 : null,
      // workers: 1: the primary's CPU as a share of the worker's (issue 19: <= 5 %).
      primaryCpuShare: t.workers.length > 0 && cpus[1] > 0 ? Math.round((cpus[0] / cpus.slice(1).reduce((a, b) => a + b, 0)) * 1000) / 10 : null,
      peakRssMiB: mib(memoryOf(serving).peak),
      // The pod: every process's high-water mark summed (an upper bound: they need not peak together).
      podPeakRssMiB: mib(peaks.reduce((a, b) => a + (b ?? 0), 0)),
      startupMs: t.proxy.startupMs,
      loopDelay: {
        startup: delay('startup', serving),
        warmup: delay('warmup', serving),
        measured: delay('measured', serving),
        primary: t.workers.length > 0 ? { warmup: delay('warmup', t.proxy.pid), measured: delay('measured', t.proxy.pid) } : undefined,
      },
    };
  }
  return out;
}

function summary(run) {
  if (!run) return null;
  return Object.fromEntries(Object.entries(run.targets).map(([t, x]) => [t, { rps: Math.round(x.reqPerSec), p99: x.p99Ms, cpu: x.cpuUsPerRequest, rss: x.peakRssMiB, ld: x.loopDelay?.measured }]));
}

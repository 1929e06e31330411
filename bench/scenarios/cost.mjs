// The cost scenario: what cutover costs per request and in memory against the bare undici proxy,
// measured side by side. Both proxies (and the bare proxy with cutover's libraries loaded) run at
// the same time on the proxy core, each in front of its own pair of backends and under its own
// autocannon load of the same shape, so that whatever the machine does during a run (another
// tenant, a frequency change) hits all of them alike. On a shared machine, one run of each after
// the other swung the CPU ratio between 1.04x and 1.39x; side by side the rounds agree within a
// few percent. Ratios are taken within each round; the median over the rounds is the figure.
// (Req/s and latency are not compared here: the proxies share a core. The throughput scenario
// measures those one at a time.)
import { servedCount, startBackend } from '../lib/backends.mjs';
import { startBareUndici } from '../lib/bare-undici-proxy.mjs';
import { median, ratio } from '../lib/compare.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { runLoad } from '../lib/load.mjs';
import { cpuSeconds, memoryOf } from '../lib/pin.mjs';

const CANDIDATE_PERCENT = 10;
export const COST_TARGETS = ['cutover', 'bare-undici', 'bare-undici+libs'];

export function costBudgetSeconds(o) {
  return o.rounds * (o.warmupSeconds + o.durationSeconds + 40) + 30;
}

export async function costScenario(ctx) {
  const { connections, durationSeconds, warmupSeconds, rounds } = ctx.opts;
  const result = { scenario: 'cost', connections, durationSeconds, warmupSeconds, rounds, runs: [], failures: [], notes: [] };
  for (let round = 1; round <= rounds; round++) {
    if (ctx.signal.aborted) break;
    ctx.log(`cost: round ${round} of ${rounds}: ${COST_TARGETS.join(', ')} side by side, ${connections} connections each`);
    const started = [];
    try {
      for (const target of COST_TARGETS) started.push(await startTarget(ctx, target, round));
      result.runs.push({ round, targets: await measureTogether(ctx, started) });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`round ${round}: ${err.message}`);
    } finally {
      for (const t of started) await Promise.all([t.proxy, ...t.backends].map((p) => ctx.procs.stop(p.proc)));
    }
  }
  const perRound = (target, get) => result.runs.map((r) => ratio(get(r.targets[target]), get(r.targets['bare-undici'])));
  const cpu = (t) => t?.cpuUsPerRequest;
  const rss = (t) => t?.peakRssMiB;
  result.ratios = {
    cpuPerRequestVsBareUndici: perRound('cutover', cpu),
    peakRssVsBareUndici: perRound('cutover', rss),
    libsCpuPerRequestVsBareUndici: perRound('bare-undici+libs', cpu),
    libsPeakRssVsBareUndici: perRound('bare-undici+libs', rss),
  };
  result.medians = Object.fromEntries(Object.entries(result.ratios).map(([k, xs]) => [k, median(xs)]));
  result.figures = Object.fromEntries(
    COST_TARGETS.map((t) => [t, { cpuUsPerRequest: median(result.runs.map((r) => cpu(r.targets[t]))), peakRssMiB: median(result.runs.map((r) => rss(r.targets[t]))) }]),
  );
  return result;
}

async function startTarget(ctx, target, round) {
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const backends = [legacy, candidate];
  const upstreams = [{ url: legacy.url, weight: 100 - CANDIDATE_PERCENT }, { url: candidate.url, weight: CANDIDATE_PERCENT }];
  try {
    const proxy =
      target === 'cutover'
        ? await startCutover(ctx, { legacy, candidate, candidatePercent: CANDIDATE_PERCENT, name: `cutover-cost-${round}`, admin: true })
        : await startBareUndici(ctx, { upstreams, name: target, withLibs: target === 'bare-undici+libs' });
    return { target, proxy, backends };
  } catch (err) {
    await Promise.all(backends.map((b) => ctx.procs.stop(b.proc)));
    throw err;
  }
}

async function measureTogether(ctx, started) {
  const { connections, durationSeconds, warmupSeconds } = ctx.opts;
  const load = (seconds) => Promise.all(started.map((t) => runLoad({ url: t.proxy.url, connections, durationSeconds: seconds, signal: ctx.signal })));
  const served = async (t) => (await Promise.all(t.backends.map(servedCount))).reduce((a, b) => a + b, 0);
  if (warmupSeconds > 0) await load(warmupSeconds);
  const before = await Promise.all(started.map(async (t) => ({ cpu: cpuSeconds(t.proxy.pid), served: await served(t) })));
  const loads = await load(durationSeconds);
  const out = {};
  for (const [i, t] of started.entries()) {
    const requests = (await served(t)) - before[i].served;
    const cpu = cpuSeconds(t.proxy.pid) - before[i].cpu;
    const failed = loads[i].errors + loads[i].timeouts + loads[i].non2xx;
    if (failed > 0) throw new Error(`${t.target}: ${failed} requests failed (${JSON.stringify(loads[i].statusCodes)})`);
    out[t.target] = {
      requests,
      cpuUsPerRequest: requests > 0 ? Math.round((cpu * 1e6 * 10) / requests) / 10 : null,
      peakRssMiB: Math.round((memoryOf(t.proxy.pid).peak / 1048576) * 10) / 10,
    };
  }
  return out;
}

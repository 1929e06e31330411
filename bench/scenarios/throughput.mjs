// The throughput scenario of issue 2: the same load (connections, duration, warm-up) straight at
// the legacy backend (the baseline), through cutover with a 90/10 split, through a bare undici
// proxy (bench/lib/bare-undici-proxy.mjs: what Node.js + undici cost without cutover's features)
// with the same 90/10 share, through that proxy with cutover's libraries loaded (what they alone
// cost in memory), and through nginx with weights 9/1 when it is installed. Every proxy runs alone
// on the proxy core. With --rounds N, all of it N times, interleaved; the table shows medians and
// the ratios are taken within each round. Returns plain data; bench/report.mjs renders it.
import { servedCount, startBackend } from '../lib/backends.mjs';
import { startBareUndici } from '../lib/bare-undici-proxy.mjs';
import { compare, median } from '../lib/compare.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { runLoad } from '../lib/load.mjs';
import { findNginx, startNginx } from '../lib/nginx.mjs';
import { allProcessesCpu, busiestOthers, cpuSeconds, machineBusySeconds, memoryOf } from '../lib/pin.mjs';

const CANDIDATE_PERCENT = 10;

export async function throughputScenario(ctx) {
  const { connections, durationSeconds, warmupSeconds, rounds } = ctx.opts;
  const result = { scenario: 'throughput', connections, durationSeconds, warmupSeconds, rounds, candidatePercent: CANDIDATE_PERCENT, rows: [], runs: {}, failures: [], notes: [] };
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const backends = [legacy, candidate];
  ctx.log(`backends: legacy ${legacy.url} (pid ${legacy.pid}), candidate ${candidate.url} (pid ${candidate.pid})`);
  const upstreams = [{ url: legacy.url, weight: 100 - CANDIDATE_PERCENT }, { url: candidate.url, weight: CANDIDATE_PERCENT }];
  const nginxBin = findNginx();
  // Every round measures every target once, in the same order, each proxy a fresh process: the
  // machine's drift over the run hits all of them alike, and the ratios are taken per round.
  const targets = [
    { target: 'cutover', start: () => startCutover(ctx, { legacy, candidate, candidatePercent: CANDIDATE_PERCENT }) },
    { target: 'bare-undici', start: () => startBareUndici(ctx, { upstreams }) },
    { target: BARE_WITH_LIBS, start: () => startBareUndici(ctx, { upstreams, name: BARE_WITH_LIBS, withLibs: true }) },
    ...(nginxBin ? [{ target: 'nginx', start: () => startNginx(ctx, { bin: nginxBin, upstreams }) }] : []),
  ];
  if (!nginxBin) result.notes.push('nginx not found on PATH: no nginx baseline, no ratios to nginx');
  try {
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) ctx.log(`round ${round} of ${rounds}`);
      const rows = [await measure(ctx, { target: 'direct', url: legacy.url, backends, expectedCandidateShare: 0 })];
      for (const t of targets) {
        const row = await throughProxy(ctx, result, backends, t.target, t.start);
        if (row) rows.push(row);
      }
      for (const row of rows) (result.runs[row.target] ??= []).push({ ...row, round });
    }
  } finally {
    await Promise.all(backends.map((b) => ctx.procs.stop(b.proc)));
  }
  result.rows = Object.values(result.runs).map(medianRow);
  Object.assign(result, compare(result.rows, result.runs));
  return result;
}

/** The bare undici proxy that also loads cutover's libraries (see bench/lib/bare-undici-proxy.mjs). */
export const BARE_WITH_LIBS = 'bare-undici+libs';

/** One row for a target over its rounds: the median of each figure, counts summed. */
function medianRow(runs) {
  if (runs.length === 1) return runs[0];
  const m = (get) => median(runs.map(get));
  const sum = (get) => runs.reduce((s, r) => s + get(r), 0);
  const served = { legacy: sum((r) => r.split.served.legacy), candidate: sum((r) => r.split.served.candidate) };
  const total = served.legacy + served.candidate;
  const first = runs[0];
  return {
    ...first,
    round: undefined,
    reqPerSec: m((r) => r.reqPerSec),
    completed: sum((r) => r.completed),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    latencyMs: Object.fromEntries(Object.keys(first.latencyMs).map((k) => [k, m((r) => r.latencyMs[k])])),
    split: { served, candidateShare: total > 0 ? served.candidate / total : null, expectedCandidateShare: first.split.expectedCandidateShare },
    cpuPercent: Object.fromEntries(Object.keys(first.cpuPercent).map((k) => [k, m((r) => r.cpuPercent[k])])),
    proxyCpuUsPerRequest: m((r) => r.proxyCpuUsPerRequest),
    proxyRssMiB: first.proxyRssMiB ? { idle: m((r) => r.proxyRssMiB.idle), peak: m((r) => r.proxyRssMiB.peak) } : null,
    busiestOtherProcesses: runs.flatMap((r) => r.busiestOtherProcesses),
    proxyOutputTail: runs.flatMap((r) => r.proxyOutputTail ?? []),
  };
}

/** Start a proxy, measure through it, stop it; the row. A proxy that cannot start is a failure (undefined), not a throw. */
async function throughProxy(ctx, result, backends, target, start) {
  let proxy;
  try {
    proxy = await start();
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    result.failures.push(`${target} could not start: ${err.message}`);
    ctx.log(`${target} could not start: ${err.message}`);
    return undefined;
  }
  ctx.log(`${target}: ${proxy.url} (pid ${proxy.pid}${proxy.version ? `, nginx ${proxy.version}` : ''})`);
  try {
    const row = await measure(ctx, { target, url: proxy.url, backends, proxy, expectedCandidateShare: CANDIDATE_PERCENT / 100 });
    if (proxy.proc.exit) result.failures.push(`${target} exited during the run: ${JSON.stringify(proxy.proc.exit)}`);
    // What the proxy said, when something went wrong through it.
    if (row.errors + row.timeouts + row.non2xx > 0 || proxy.proc.exit) row.proxyOutputTail = [...proxy.proc.tail];
    return row;
  } finally {
    const exit = await ctx.procs.stop(proxy.proc);
    if (exit?.killed) result.notes.push(`${target} ignored SIGTERM for 5 s and was killed`);
  }
}

/** Warm up, then one measured run, with backend counts and CPU time read around it. */
async function measure(ctx, { target, url, backends, proxy, expectedCandidateShare }) {
  const { connections, durationSeconds, warmupSeconds, signal } = { ...ctx.opts, signal: ctx.signal };
  ctx.log(`${target}: warm-up ${warmupSeconds} s, then ${durationSeconds} s with ${connections} connections`);
  const idle = proxy ? memoryOf(proxy.pid) : undefined;
  if (warmupSeconds > 0) await runLoad({ url, connections, durationSeconds: warmupSeconds, signal });
  const before = await snapshot(backends, proxy);
  const load = await runLoad({ url, connections, durationSeconds, signal });
  const after = await snapshot(backends, proxy);

  const wall = (after.at - before.at) / 1000;
  const served = Object.fromEntries(backends.map((b) => [b.name, after.served[b.name] - before.served[b.name]]));
  const total = served.legacy + served.candidate;
  const pct = (a, b) => Math.round(((a - b) / wall) * 1000) / 10;
  return {
    target,
    url,
    ...load,
    split: { served, candidateShare: total > 0 ? served.candidate / total : null, expectedCandidateShare },
    // Percent of one core over the measured run: the proxy alone, and the load core (this
    // process, i.e. autocannon, plus both backends). A load core near 100 % caps the figures.
    // `other`: every other process on the machine (a test run, a build): it disturbs the figures.
    cpuPercent: {
      proxy: proxy ? pct(after.cpu.proxy, before.cpu.proxy) : null,
      loadCore: pct(after.cpu.load, before.cpu.load),
      other: Math.max(0, pct(after.cpu.machine - (proxy ? after.cpu.proxy : 0) - after.cpu.load, before.cpu.machine - (proxy ? before.cpu.proxy : 0) - before.cpu.load)),
    },
    busiestOtherProcesses: busiestOthers(before.processes, after.processes, new Set([process.pid, proxy?.pid, ...backends.map((b) => b.pid)]), wall),
    // Proxy CPU time per request served: the proxy's cost, whichever side was the bottleneck.
    proxyCpuUsPerRequest: proxy && total > 0 ? Math.round(((after.cpu.proxy - before.cpu.proxy) * 1e6 * 10) / total) / 10 : null,
    // The proxy's resident memory (MiB) before the warm-up, and its peak (the kernel's high-water
    // mark, read after the measured run, so the peak under load whatever the sampling).
    proxyRssMiB: proxy ? { idle: mib(idle.rss), peak: mib(after.memory.peak) } : null,
  };
}

async function snapshot(backends, proxy) {
  const counts = await Promise.all(backends.map(servedCount));
  return {
    at: performance.now(),
    processes: allProcessesCpu(),
    served: Object.fromEntries(backends.map((b, i) => [b.name, counts[i]])),
    memory: proxy ? memoryOf(proxy.pid) : undefined,
    cpu: {
      proxy: proxy ? cpuSeconds(proxy.pid) : NaN,
      load: cpuSeconds(process.pid) + backends.reduce((s, b) => s + cpuSeconds(b.pid), 0),
      machine: machineBusySeconds(),
    },
  };
}

const mib = (bytes) => (bytes === null ? null : Math.round((bytes / 1048576) * 10) / 10);

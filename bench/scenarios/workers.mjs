// The workers scenario of issue 10: the same autocannon load through cutover with `workers: 1`
// and `workers: 2` (a node:cluster primary and its workers behind one listener), reporting req/s
// and the CPU time per request of every cutover process together (primary + workers, from
// /proc), which must not grow with the number of workers. On a machine with spare cores req/s
// should scale with the workers; on this one (2 cores, every cutover process pinned to the proxy
// core) only the CPU per request is comparable. Returns plain data; bench/report.mjs renders it.
import { servedCount, startBackend } from '../lib/backends.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { get } from '../lib/http.mjs';
import { runLoad } from '../lib/load.mjs';
import { cpuSeconds } from '../lib/pin.mjs';

const CANDIDATE_PERCENT = 10;
export const WORKER_COUNTS = [1, 2];

export async function workersScenario(ctx) {
  const { connections, durationSeconds, warmupSeconds } = ctx.opts;
  const result = { scenario: 'workers', connections, durationSeconds, warmupSeconds, candidatePercent: CANDIDATE_PERCENT, pinned: ctx.pins.pinned, rows: [], failures: [], notes: [] };
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const backends = [legacy, candidate];
  try {
    for (const workers of WORKER_COUNTS) {
      let proxy;
      try {
        proxy = await startCutover(ctx, { legacy, candidate, candidatePercent: CANDIDATE_PERCENT, name: `cutover-workers-${workers}`, admin: true, workers });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        result.failures.push(`workers ${workers}: cutover could not start: ${err.message}`);
        continue;
      }
      try {
        const status = JSON.parse((await get(`${proxy.adminUrl}/api/v1/status`)).body);
        const pids = [proxy.pid, ...status.workers.map((w) => w.pid)];
        ctx.log(`workers ${workers}: ${proxy.url} (primary ${proxy.pid}, workers ${pids.slice(1).join(', ')}); warm-up ${warmupSeconds} s, then ${durationSeconds} s`);
        if (warmupSeconds > 0) await runLoad({ url: proxy.url, connections, durationSeconds: warmupSeconds, signal: ctx.signal });
        const before = await snapshot(backends, pids);
        const load = await runLoad({ url: proxy.url, connections, durationSeconds, signal: ctx.signal });
        const after = await snapshot(backends, pids);
        const served = after.served - before.served;
        const cpu = after.cpu - before.cpu;
        const wall = (after.at - before.at) / 1000;
        result.rows.push({
          workers,
          processes: pids.length,
          reqPerSec: load.reqPerSec,
          latencyMs: load.latencyMs,
          errors: load.errors + load.timeouts,
          non2xx: load.non2xx,
          served,
          cpuPercent: Math.round((cpu / wall) * 1000) / 10,
          primaryCpuPercent: Math.round(((after.primaryCpu - before.primaryCpu) / wall) * 1000) / 10,
          cpuUsPerRequest: served > 0 ? Math.round((cpu * 1e6 * 10) / served) / 10 : null,
        });
        if (proxy.proc.exit) result.failures.push(`workers ${workers}: cutover exited during the run: ${JSON.stringify(proxy.proc.exit)}`);
      } finally {
        await ctx.procs.stop(proxy.proc);
      }
    }
  } finally {
    await Promise.all(backends.map((b) => ctx.procs.stop(b.proc)));
  }
  const base = result.rows.find((r) => r.workers === 1);
  for (const r of result.rows) {
    r.reqPerSecVsOne = base ? r.reqPerSec / base.reqPerSec : null;
    r.cpuPerRequestVsOne = base?.cpuUsPerRequest && r.cpuUsPerRequest ? r.cpuUsPerRequest / base.cpuUsPerRequest : null;
  }
  if (ctx.pins.pinned) result.notes.push('every cutover process (primary and workers) runs on the one proxy core: req/s cannot scale here, CPU per request is the comparable figure');
  return result;
}

async function snapshot(backends, pids) {
  const counts = await Promise.all(backends.map(servedCount));
  return { at: performance.now(), served: counts.reduce((a, b) => a + b, 0), cpu: pids.reduce((s, pid) => s + cpuSeconds(pid), 0), primaryCpu: cpuSeconds(pids[0]) };
}

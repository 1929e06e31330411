// The stalls scenario (issue 19): where cutover's event loop stops, and why. One cutover at a time
// (workers: 0, then workers: 1) on the proxy core, each process carrying the probe in its timing
// mode (bench/lib/loop-delay-probe.mjs, CUTOVER_PROBE_TASKS=1): a paced 1,500 req/s for 1 s of
// warm-up, then 6 s ("early": the first seconds of the process's life, where the issue saw p99 of
// 276 ms), then 6 s more ("settled"), then autocannon flat out ("saturation"), with /metrics
// scraped every 5 s as a Prometheus would. For each phase and process: the loop delay, the
// periodic tasks by their longest run, the GCs and stalls over 20 ms with their times, so each
// stall can be matched with what ran then. A diagnosis, not a budget: it wraps functions, which
// costs a little per request; the cost scenario measures without it.
import { startBackend } from '../lib/backends.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { get } from '../lib/http.mjs';
import { runLoad } from '../lib/load.mjs';
import { startPacedLoad } from '../lib/paced-load.mjs';
import { childPids, markPhase, probeDir } from '../lib/probe.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

const RATE = 1500;
export const STALL_TARGETS = [0, 1];

export function stallsBudgetSeconds(o) {
  return STALL_TARGETS.length * (1 + 6 + 6 + o.durationSeconds + 30) + 30;
}

export async function stallsScenario(ctx) {
  const { connections, durationSeconds } = ctx.opts;
  const result = { scenario: 'stalls', rate: RATE, connections, durationSeconds, targets: [], failures: [] };
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  try {
    for (const workers of STALL_TARGETS) {
      if (ctx.signal.aborted) break;
      const name = `cutover-stalls-w${workers}`;
      const dir = probeDir(ctx, name);
      let proxy;
      try {
        proxy = await startCutover(ctx, { legacy, candidate, candidatePercent: 10, name, admin: true, workers, probe: { dir, tasks: true } });
        // A worker listens before the primary says "proxy listening": its pid is there by now.
        const pids = [proxy.pid, ...childPids(proxy.pid)];
        ctx.log(`stalls: workers ${workers}: pids ${pids.join(', ')}, started in ${proxy.startupMs} ms`);
        const phases = [];
        const mark = async (phase) => phases.push({ phase, byPid: await markPhase(dir, pids) });
        await mark('start-up');
        let scraping = true;
        const scraper = (async () => {
          while (scraping) {
            await sleep(5000);
            if (scraping) await get(`${proxy.adminUrl}/metrics`, 5000).catch(() => {});
          }
        })();
        const paced = startPacedLoad({ url: proxy.url, rate: RATE, connections: 20, maxSeconds: 14, signal: ctx.signal });
        await sleep(1000);
        await mark('warm-up 1 s');
        await sleep(6000);
        await mark('early 6 s');
        await sleep(6000);
        await mark('settled 6 s');
        await paced.stop();
        await runLoad({ url: proxy.url, connections, durationSeconds, signal: ctx.signal });
        await mark(`saturation ${durationSeconds} s`);
        scraping = false;
        await scraper;
        result.targets.push({ workers, startupMs: proxy.startupMs, pids, phases });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        result.failures.push(`workers ${workers}: ${err.message}`);
      } finally {
        if (proxy) await ctx.procs.stop(proxy.proc);
      }
    }
  } finally {
    await Promise.all([legacy, candidate].map((b) => ctx.procs.stop(b.proc)));
  }
  return result;
}

export function renderStalls(r) {
  const out = [`stalls: paced ${r.rate} req/s (1 s warm-up, 6 s early, 6 s settled), then ${r.connections} connections flat out for ${r.durationSeconds} s; probe timing mode`];
  for (const t of r.targets) {
    out.push(`  workers: ${t.workers} (started in ${t.startupMs} ms)`);
    for (const p of t.phases) {
      for (const [pid, l] of Object.entries(p.byPid)) {
        const d = l.loopDelay;
        out.push(`    ${p.phase.padEnd(16)} ${l.role.padEnd(7)} ${pid}: loop delay p50 ${d.p50Ms} p99 ${d.p99Ms} max ${d.maxMs} ms (${d.count} samples); RSS ${l.rssMiB} MiB, heap ${l.heapUsedMiB} MiB`);
        const top = Object.entries(l.tasks?.byName ?? {}).filter(([, v]) => v.maxMs >= 1).slice(0, 8);
        if (top.length) out.push(`      longest: ${top.map(([k, v]) => `${k} max ${v.maxMs} (n ${v.count}, total ${v.totalMs})`).join('; ')}`);
        if (l.tasks?.stalls.length) out.push(`      stalls (at ms since start: ms, of which on CPU): ${l.tasks.stalls.map((s) => `${s.at}:${s.ms}/${s.cpuMs}`).join(' ')}`);
        if (l.tasks?.gcs.length) out.push(`      GCs >= 2 ms: ${l.tasks.gcs.map((g) => `${g.at}:${g.kind}:${g.ms}`).join(' ')}`);
        if (l.tasks?.slow.length) out.push(`      tasks >= 2 ms: ${l.tasks.slow.filter((s) => !s.name.startsWith('gc.')).map((s) => `${s.at}:${s.name}:${s.ms}`).join(' ')}`);
      }
    }
  }
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

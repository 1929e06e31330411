// The dashboard scenario of issue 18: what 20 open dashboards cost a cutover serving 1,000 req/s.
// Two cutovers run side by side on the proxy core, each in front of its own pair of backends and
// under its own paced load of 1,000 req/s; one has 20 clients reading GET /api/v1/events (a
// dashboard each: a status snapshot a second plus every change), the other none. Side by side, so
// whatever the machine does during a round hits both alike; the figure is the ratio of their CPU
// seconds within each round, then the median over the rounds. The SSE readers run in this
// process (on the load core), as browsers would run elsewhere.
import { startBackend } from '../lib/backends.mjs';
import { median, ratio } from '../lib/compare.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { startPacedLoad } from '../lib/paced-load.mjs';
import { cpuSeconds } from '../lib/pin.mjs';

export const DASHBOARDS = 20;
const RATE = 1000;
const TARGETS = ['no-dashboard', `${DASHBOARDS}-dashboards`];

export function dashboardBudgetSeconds(o) {
  return o.rounds * (o.warmupSeconds + o.durationSeconds + 40) + 30;
}

export async function dashboardScenario(ctx) {
  const { durationSeconds, warmupSeconds, rounds } = ctx.opts;
  const result = { scenario: 'dashboard', rate: RATE, dashboards: DASHBOARDS, durationSeconds, warmupSeconds, rounds, runs: [], failures: [], notes: [] };
  for (let round = 1; round <= rounds; round++) {
    if (ctx.signal.aborted) break;
    ctx.log(`dashboard: round ${round} of ${rounds}: ${TARGETS.join(' and ')} side by side at ${RATE} req/s each`);
    const started = [];
    const readers = [];
    try {
      for (const target of TARGETS) {
        const legacy = await startBackend(ctx, 'legacy');
        const candidate = await startBackend(ctx, 'candidate');
        started.push({ target, backends: [legacy, candidate], proxy: await startCutover(ctx, { legacy, candidate, candidatePercent: 30, name: `cutover-${target}-${round}`, admin: true }) });
      }
      const withDashboards = started[1];
      for (let i = 0; i < DASHBOARDS; i++) readers.push(openStream(`${withDashboards.proxy.adminUrl}/api/v1/events`));
      const m = await measureTogether(ctx, started, readers);
      result.runs.push({ round, targets: m.targets, events: m.events, bytesPerClientPerSecond: m.bytesPerClientPerSecond });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`round ${round}: ${err.message}`);
    } finally {
      for (const r of readers) r.close();
      for (const t of started) await Promise.all([t.proxy, ...t.backends].map((p) => ctx.procs.stop(p.proc)));
    }
  }
  const cpu = (name) => result.runs.map((r) => r.targets[name]?.cpuSeconds);
  result.ratios = { cpuWithVsWithout: result.runs.map((r) => ratio(r.targets[TARGETS[1]].cpuSeconds, r.targets[TARGETS[0]].cpuSeconds)) };
  result.medians = { cpuWithVsWithout: median(result.ratios.cpuWithVsWithout) };
  result.figures = Object.fromEntries(TARGETS.map((t) => [t, { cpuSeconds: median(cpu(t)), cpuPercentOfCore: median(result.runs.map((r) => r.targets[t]?.cpuPercentOfCore)) }]));
  result.figures[TARGETS[1]].eventsPerClient = median(result.runs.map((r) => r.events));
  result.figures[TARGETS[1]].bytesPerClientPerSecond = median(result.runs.map((r) => r.bytesPerClientPerSecond));
  return result;
}

/** One dashboard's stream, read to the end; counts events and bytes. */
function openStream(url) {
  const ac = new AbortController();
  const s = { events: 0, bytes: 0, error: undefined, close: () => ac.abort() };
  (async () => {
    const res = await fetch(url, { signal: ac.signal });
    if (res.status !== 200) throw new Error(`GET /api/v1/events answered ${res.status}`);
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      s.bytes += chunk.byteLength;
      s.events += (decoder.decode(chunk, { stream: true }).match(/\n\n/g) ?? []).length;
    }
  })().catch((err) => {
    if (!ac.signal.aborted) s.error = err.message;
  });
  return s;
}

async function measureTogether(ctx, started, readers) {
  const { durationSeconds, warmupSeconds } = ctx.opts;
  const load = async (seconds) => {
    const loads = started.map((t) => startPacedLoad({ url: t.proxy.url, rate: RATE, maxSeconds: seconds, signal: ctx.signal }));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return Promise.all(loads.map((l) => l.stop()));
  };
  if (warmupSeconds > 0) await load(warmupSeconds);
  const before = started.map((t) => cpuSeconds(t.proxy.pid));
  const events0 = readers.reduce((n, r) => n + r.events, 0);
  const bytes0 = readers.reduce((n, r) => n + r.bytes, 0);
  const t0 = performance.now();
  const figures = await load(durationSeconds);
  const seconds = (performance.now() - t0) / 1000;
  const broken = readers.filter((r) => r.error !== undefined);
  if (broken.length > 0) throw new Error(`${broken.length} dashboard streams failed: ${broken[0].error}`);
  const out = {};
  for (const [i, t] of started.entries()) {
    const f = figures[i];
    const failed = f.errors + f.shed + f.unfinished + Object.entries(f.statusCodes).filter(([c]) => c !== '200').reduce((n, [, x]) => n + x, 0);
    if (failed > 0) throw new Error(`${t.target}: ${failed} requests failed or shed (${JSON.stringify(f.statusCodes)}, ${JSON.stringify(f.errorCodes)})`);
    const cpu = cpuSeconds(t.proxy.pid) - before[i];
    out[t.target] = { requests: f.completed, achievedRate: f.achievedRate, cpuSeconds: Math.round(cpu * 100) / 100, cpuPercentOfCore: Math.round((1000 * cpu) / seconds) / 10 };
  }
  return {
    events: Math.round((readers.reduce((n, r) => n + r.events, 0) - events0) / readers.length),
    bytesPerClientPerSecond: Math.round((readers.reduce((n, r) => n + r.bytes, 0) - bytes0) / readers.length / seconds),
    targets: out,
  };
}

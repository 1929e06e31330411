// The shadow scenario of issue 17: what a shadow costs the primary requests. Three cutovers run
// side by side on the proxy core, each in front of its own backends and under its own load of
// the same shape (paced, so that latency is not queueing): the shadow off (percent 0), the shadow
// at 100 % to a healthy candidate, and the shadow at 100 % to a candidate that never answers (a
// hanging shadow: maxInFlight fills, later copies are dropped, each open one times out). Ratios
// are taken within each round, then the median over the rounds; nothing asserts a timing.
// Then one more cutover: RSS with maxInFlight copies open, each holding a 1 MiB request body
// (POST shadowed to a hanging candidate), against the same process before.
import { createServer } from 'node:net';
import { request } from 'undici';
import { servedCount, startBackend } from '../lib/backends.mjs';
import { median, ratio } from '../lib/compare.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { runLoad } from '../lib/load.mjs';
import { cpuSeconds, memoryOf } from '../lib/pin.mjs';

// Well under what one core serves for three cutovers, so that p99 is the proxy's, not a queue's.
const RATE = 200;
const TARGETS = ['shadow-off', 'shadow-100', 'shadow-hanging'];
const MAX_IN_FLIGHT = 64;
const BODY_BYTES = 1048576;

export function shadowBudgetSeconds(o) {
  return o.rounds * (o.warmupSeconds + o.durationSeconds + 40) + 60;
}

/** A candidate that accepts connections and never answers (held until the scenario ends). */
async function hangingBackend() {
  const sockets = new Set();
  const server = createServer((s) => (sockets.add(s), s.on('error', () => {})));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve())));
  return { name: 'hanging', url: `http://127.0.0.1:${server.address().port}`, close };
}

const route = (shadow) => [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, shadow }];

async function startTarget(ctx, target, round) {
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = target === 'shadow-hanging' ? await hangingBackend() : await startBackend(ctx, 'candidate');
  const shadow = target === 'shadow-off' ? { percent: 0 } : { percent: 100, timeoutMs: 2000, maxInFlight: MAX_IN_FLIGHT };
  const proxy = await startCutover(ctx, { legacy, candidate, candidatePercent: 0, name: `cutover-${target}-${round}`, admin: true, extra: { routes: route(shadow) } });
  return { target, proxy, legacy, candidate };
}

async function stopTarget(ctx, t) {
  await ctx.procs.stop(t.proxy.proc);
  await ctx.procs.stop(t.legacy.proc);
  if (t.candidate.proc) await ctx.procs.stop(t.candidate.proc);
  else await t.candidate.close();
}

async function measureTogether(ctx, started) {
  const { durationSeconds, warmupSeconds } = ctx.opts;
  const load = (seconds) => Promise.all(started.map((t) => runLoad({ url: t.proxy.url, connections: 20, durationSeconds: seconds, signal: ctx.signal, rate: RATE })));
  if (warmupSeconds > 0) await load(warmupSeconds);
  const before = await Promise.all(started.map(async (t) => ({ cpu: cpuSeconds(t.proxy.pid), served: await servedCount(t.legacy) })));
  const loads = await load(durationSeconds);
  const out = {};
  for (const [i, t] of started.entries()) {
    const failed = loads[i].errors + loads[i].timeouts + loads[i].non2xx;
    if (failed > 0) throw new Error(`${t.target}: ${failed} primary requests failed (${JSON.stringify(loads[i].statusCodes)}); cutover ${t.proxy.proc.exit ? `exited ${JSON.stringify(t.proxy.proc.exit)}` : 'still running'}: ${t.proxy.proc.tail.slice(-3).join(' | ').slice(0, 600)}`);
    // The primary requests: what legacy served (the split sends the candidate nothing).
    const primary = (await servedCount(t.legacy)) - before[i].served;
    const cpu = cpuSeconds(t.proxy.pid) - before[i].cpu;
    out[t.target] = { primaryRequests: primary, cpuUsPerPrimaryRequest: primary > 0 ? Math.round((cpu * 1e6 * 10) / primary) / 10 : null, p99Ms: loads[i].latencyMs.p99, p50Ms: loads[i].latencyMs.p50 };
  }
  return out;
}

/** RSS of a cutover before, and with maxInFlight shadow copies open holding a 1 MiB body each. */
async function bodiesRss(ctx) {
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await hangingBackend();
  const shadow = { percent: 100, methods: ['POST'], maxBodyBytes: BODY_BYTES, maxInFlight: MAX_IN_FLIGHT, timeoutMs: 120000 };
  const proxy = await startCutover(ctx, { legacy, candidate, candidatePercent: 0, name: 'cutover-shadow-bodies', admin: true, extra: { routes: route(shadow) } });
  try {
    const body = Buffer.alloc(BODY_BYTES, 0x61);
    const post = async () => (await request(`${proxy.url}/upload`, { method: 'POST', body })).body.text();
    for (let i = 0; i < 8; i++) await request(`${proxy.url}/warm`).then((r) => r.body.text());
    const idle = memoryOf(proxy.pid).rss;
    // Eight at a time: every primary is answered (legacy reads the whole body); each copy stays open.
    for (let i = 0; i < MAX_IN_FLIGHT; i += 8) await Promise.all(Array.from({ length: 8 }, post));
    await new Promise((r) => setTimeout(r, 1000));
    const full = memoryOf(proxy.pid).rss;
    // Past maxInFlight a copy is dropped: memory stays where it is.
    for (let i = 0; i < 16; i++) await post();
    const past = memoryOf(proxy.pid).rss;
    const mib = (b) => (b === null ? null : Math.round((b / 1048576) * 10) / 10);
    return { idleRssMiB: mib(idle), fullRssMiB: mib(full), pastCapRssMiB: mib(past), addedMiB: mib(full - idle), boundMiB: (MAX_IN_FLIGHT * BODY_BYTES * 2) / 1048576, fullVsIdle: ratio(full, idle) };
  } finally {
    await ctx.procs.stop(proxy.proc);
    await ctx.procs.stop(legacy.proc);
    await candidate.close();
  }
}

export async function shadowScenario(ctx) {
  const { durationSeconds, warmupSeconds, rounds } = ctx.opts;
  const result = { scenario: 'shadow', rate: RATE, maxInFlight: MAX_IN_FLIGHT, durationSeconds, warmupSeconds, rounds, runs: [], failures: [], notes: [] };
  for (let round = 1; round <= rounds; round++) {
    if (ctx.signal.aborted) break;
    ctx.log(`shadow: round ${round} of ${rounds}: ${TARGETS.join(', ')} side by side at ${RATE} req/s each`);
    const started = [];
    try {
      for (const target of TARGETS) started.push(await startTarget(ctx, target, round));
      result.runs.push({ round, targets: await measureTogether(ctx, started) });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`round ${round}: ${err.message}`);
    } finally {
      for (const t of started) await stopTarget(ctx, t);
    }
  }
  const perRound = (target, get) => result.runs.map((r) => ratio(get(r.targets[target]), get(r.targets['shadow-off'])));
  result.ratios = {
    cpuShadow100VsOff: perRound('shadow-100', (t) => t?.cpuUsPerPrimaryRequest),
    cpuHangingVsOff: perRound('shadow-hanging', (t) => t?.cpuUsPerPrimaryRequest),
    p99HangingVsOff: perRound('shadow-hanging', (t) => t?.p99Ms),
    p99Shadow100VsOff: perRound('shadow-100', (t) => t?.p99Ms),
  };
  result.medians = Object.fromEntries(Object.entries(result.ratios).map(([k, xs]) => [k, median(xs)]));
  result.figures = Object.fromEntries(TARGETS.map((t) => [t, { cpuUsPerPrimaryRequest: median(result.runs.map((r) => r.targets[t]?.cpuUsPerPrimaryRequest)), p99Ms: median(result.runs.map((r) => r.targets[t]?.p99Ms)) }]));
  if (!ctx.signal.aborted) {
    try {
      result.bodies = await bodiesRss(ctx);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`bodies: ${err.message}`);
    }
  }
  return result;
}

const fx = (x, d) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

export function renderShadow(r) {
  const vs = { 'shadow-off': 1, 'shadow-100': r.medians?.cpuShadow100VsOff, 'shadow-hanging': r.medians?.cpuHangingVsOff };
  const p99vs = { 'shadow-off': 1, 'shadow-100': r.medians?.p99Shadow100VsOff, 'shadow-hanging': r.medians?.p99HangingVsOff };
  const rows = Object.entries(r.figures ?? {}).map(([t, f]) => [t, fx(f.cpuUsPerPrimaryRequest, 1), `${fx(vs[t], 2)}x`, fx(f.p99Ms, 2), `${fx(p99vs[t], 2)}x`]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...[['target', 'CPU us/primary req', 'CPU x off', 'primary p99 ms', 'p99 x off'], ...rows].map((x) => x[i].length)));
  const line = (cells) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const b = r.bodies;
  const out = [
    `shadow: ${r.rounds} rounds, in each three cutovers side by side on the proxy core at ${r.rate} req/s each (split 0 %: legacy answers; shadow off, at 100 %, at 100 % to a candidate that never answers), ${r.durationSeconds} s after ${r.warmupSeconds} s warm-up`,
    line(['target', 'CPU us/primary req', 'CPU x off', 'primary p99 ms', 'p99 x off']),
    ...rows.map(line),
    `  medians over the rounds; each ratio is taken within its round, then the median of those (the issue's aim for the hanging shadow: p99 within 1.1x of off)`,
    b ? `  RSS: ${fx(b.idleRssMiB, 1)} MiB idle, ${fx(b.fullRssMiB, 1)} MiB with ${r.maxInFlight} copies open holding 1 MiB bodies (+${fx(b.addedMiB, 1)} MiB; bound maxInFlight x maxBodyBytes x 2 = ${b.boundMiB} MiB), ${fx(b.pastCapRssMiB, 1)} MiB after 16 more past the cap (dropped)` : '  RSS: not measured',
  ];
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

// Preloaded into the process under test (`node --import bench/lib/loop-delay-probe.mjs dist/cli.js
// start ...`; node:cluster hands execArgv to the workers, so every cutover process carries it):
// the event loop's delay of that process, read by the bench without any change to cutover, so the
// same probe measures main's code and a branch's alike. It costs what the product's own
// stats/loop-delay.ts costs: one monitorEventLoopDelay at 10 ms, no JS per sample.
//
// SIGWINCH (ignored by default and unused by cutover) appends one JSON line to
// $CUTOVER_PROBE_DIR/loop-delay.jsonl: this process's loop delay since the previous SIGWINCH (or
// since it started), its uptime, RSS and heap; then a new interval begins. The bench sends one when
// a phase ends (start-up, warm-up, measured run), so every phase has its own figures.
//
// With CUTOVER_PROBE_TASKS=1 (diagnosis, not the bench's default: it wraps functions, which costs a
// little per request) it also times cutover's periodic work by wrapping the prototypes of the dist/
// modules the process loads (guard and ramp ticks, stats views and snapshots, HDR encoding, the
// metrics registry, state writes, discovery, IPC sends, every timer callback over 2 ms), observes
// GC, and notes each stall over 20 ms with its time, so a stall can be matched with its cause.
import cluster from 'node:cluster';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const RESOLUTION_MS = 10;
const dir = process.env.CUTOVER_PROBE_DIR;
const role = cluster.isPrimary ? (process.env.CUTOVER_PROBE_ROLE ?? 'main') : 'worker';
const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
eld.enable();
let seq = 0;
// On a machine shared with other tenants a process waits for the core as often as for its own
// work, and monitorEventLoopDelay cannot tell the two apart. So a second sampler (a 10 ms timer,
// one getrusage a tick) records each tick's lateness capped by the CPU this process used meanwhile:
// a late tick spent off the core counts as what it ran, not as a stall. (GC helper threads count
// as this process's CPU: an upper bound of the blocking.) "onCpu" in the figures.
const onCpu = createHistogram();
{
  let prev = performance.now();
  let prevCpu = process.cpuUsage();
  const t = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const lateUs = Math.max(0, (now - prev - RESOLUTION_MS) * 1000);
    const cpuUs = cpu.user + cpu.system - prevCpu.user - prevCpu.system;
    onCpu.record(Math.max(1, Math.round(Math.min(lateUs, cpuUs))));
    prev = now;
    prevCpu = cpu;
  }, RESOLUTION_MS);
  t.unref();
}
const tasks = process.env.CUTOVER_PROBE_TASKS === '1' ? await timeTasks(process.env.CUTOVER_PROBE_DIST) : undefined;

const late = (ns) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 1000) / 1000);

process.on('SIGWINCH', () => {
  const m = process.memoryUsage();
  const line = {
    pid: process.pid,
    role: cluster.isPrimary ? role : 'worker',
    seq: seq++,
    uptimeMs: Math.round(performance.now()),
    loopDelay: eld.count === 0 ? { p50Ms: 0, p99Ms: 0, maxMs: 0, count: 0 } : { p50Ms: late(eld.percentile(50)), p99Ms: late(eld.percentile(99)), maxMs: late(eld.max), count: eld.count },
    onCpu: onCpu.count === 0 ? { p50Ms: 0, p99Ms: 0, maxMs: 0, count: 0 } : { p50Ms: onCpu.percentile(50) / 1000, p99Ms: onCpu.percentile(99) / 1000, maxMs: onCpu.max / 1000, count: onCpu.count },
    rssMiB: Math.round(m.rss / 1048576),
    heapUsedMiB: Math.round(m.heapUsed / 1048576),
    ...(tasks ? { tasks: tasks.take() } : {}),
  };
  eld.reset();
  onCpu.reset();
  if (dir) appendFileSync(join(dir, 'loop-delay.jsonl'), `${JSON.stringify(line)}\n`);
});

async function timeTasks(distDir) {
  const byName = new Map();
  const slow = []; // { at, name, ms }
  const stalls = []; // { at, ms }
  const gcs = []; // { at, kind, ms }
  const origSetInterval = globalThis.setInterval;
  const add = (name, at, ms) => {
    let t = byName.get(name);
    if (!t) byName.set(name, (t = { count: 0, totalMs: 0, maxMs: 0 }));
    t.count++;
    t.totalMs += ms;
    if (ms > t.maxMs) t.maxMs = ms;
    if (ms >= 2 && slow.length < 500) slow.push({ at: Math.round(at), name, ms: Math.round(ms * 100) / 100 });
  };
  const wrap = (obj, key, name, minMs = 0) => {
    const fn = obj?.[key];
    if (typeof fn !== 'function') return;
    obj[key] = function (...args) {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        if (ms >= minMs) add(name, t0, ms);
      }
    };
  };
  const dist = distDir ? pathToFileURL(join(distDir, 'dist/')).href : new URL('../../dist/', import.meta.url).href;
  const load = (p) => import(new URL(p, dist).href).catch(() => ({}));
  const [guard, ramp, store, series, fileStore, discovery, events] = await Promise.all(
    ['guard/runner.js', 'ramp/runner.js', 'stats/store.js', 'stats/series.js', 'state/file-store.js', 'proxy/discovery.js', 'admin/events.js'].map(load),
  );
  wrap(guard.GuardRunner?.prototype, 'tick', 'guard.tick');
  wrap(guard.GuardRunner?.prototype, 'wireSnapshot', 'guard.wireSnapshot');
  wrap(ramp.RampRunner?.prototype, 'tick', 'ramp.tick');
  for (const k of ['views', 'routeSnapshot', 'window', 'windowView']) wrap(store.Stats?.prototype, k, `stats.${k}`);
  wrap(series.Series?.prototype, 'slice', 'series.slice (rotation)', 0.05);
  wrap(series.Series?.prototype, 'cumulative', 'series.cumulative');
  wrap(series.Series?.prototype, 'windowCounters', 'series.windowCounters');
  wrap(fileStore.FileStateStore?.prototype, 'save', 'state.save (sync part)');
  wrap(discovery.DnsDiscovery?.prototype, 'refresh', 'discovery.refresh (sync part)');
  wrap(events.EventHub?.prototype, 'tick', 'events.tick');
  const require = createRequire(new URL('cli.js', dist));
  try {
    wrap(require(require.resolve('hdr-histogram-js/dist/encoding')), 'encodeIntoCompressedBase64', 'hdr.encode');
    wrap(require(require.resolve('hdr-histogram-js/dist/encoding')), 'decodeFromCompressedBase64', 'hdr.decode');
  } catch {}
  try {
    const prom = require('prom-client');
    for (const k of ['metrics', 'getMetricsAsJSON']) {
      const fn = prom.Registry.prototype[k];
      prom.Registry.prototype[k] = async function (...args) {
        const t0 = performance.now();
        try {
          return await fn.apply(this, args);
        } finally {
          add(`prom.${k} (wall)`, t0, performance.now() - t0);
        }
      };
    }
  } catch {}
  if (process.send) wrap(process, 'send', 'ipc.send');
  // Every timer callback that takes 2 ms or more, named by its function (interval or timeout).
  for (const k of ['setInterval', 'setTimeout']) {
    const orig = globalThis[k];
    globalThis[k] = function (fn, ...rest) {
      if (typeof fn !== 'function') return orig.call(this, fn, ...rest);
      const timed = function (...a) {
        const t0 = performance.now();
        try {
          return fn.apply(this, a);
        } finally {
          const ms = performance.now() - t0;
          if (ms >= 2) add(`${k}: ${fn.name || fn.toString().replace(/\s+/g, ' ').slice(0, 70)}`, t0, ms);
        }
      };
      return orig.call(this, timed, ...rest);
    };
  }
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' }[e.detail?.kind] ?? String(e.detail?.kind);
      add(`gc.${kind}`, e.startTime, e.duration);
      if (e.duration >= 2 && gcs.length < 500) gcs.push({ at: Math.round(e.startTime), kind, ms: Math.round(e.duration * 100) / 100 });
    }
  }).observe({ entryTypes: ['gc'] });
  // Stalls with their time: a 5 ms timer that came more than 20 ms late.
  // cpuMs: CPU this process used during the stall; far below ms means it was not running (the
  // machine's other tenants had the core), not that it was busy.
  let prev = performance.now();
  let prevCpu = process.cpuUsage();
  const detector = origSetInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    if (now - prev - 5 > 20 && stalls.length < 500) {
      stalls.push({ at: Math.round(prev), ms: Math.round(now - prev - 5), cpuMs: Math.round((cpu.user + cpu.system - prevCpu.user - prevCpu.system) / 1000) });
    }
    prev = now;
    prevCpu = cpu;
  }, 5);
  detector.unref();
  return {
    take() {
      const out = {
        byName: Object.fromEntries([...byName].sort((a, b) => b[1].maxMs - a[1].maxMs).map(([k, v]) => [k, { count: v.count, totalMs: Math.round(v.totalMs * 100) / 100, maxMs: Math.round(v.maxMs * 100) / 100 }])),
        slow: slow.splice(0),
        gcs: gcs.splice(0),
        stalls: stalls.splice(0),
      };
      byName.clear();
      return out;
    },
  };
}

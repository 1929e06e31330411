// The guard scenarios, one declarative entry each:
//   name, shouldRevert, targetMs (first bad candidate answer -> revert, for those that must revert)
//   healthySeconds  healthy history before the change (t < 0 in the behaviours)
//   seconds         after the change: the longest wait for a revert, or the observation
//   config          overrides merged into the generated cutover config (default guard settings otherwise)
//   candidatePercent (default 10)
//   candidate, legacy  behaviour: (t = seconds since the change, req) -> an answer from backend.mjs
//   candidateGoesDown  the candidate stops listening at the change (connections refused)
//   backendOptions  { candidate: { upgrade: 'refuse' } }
//   load            streams (load.mjs); 500 req/s, clients patient for 15 s unless stated
// Targets: the where it gives one; otherwise what the statistics allow (noted per entry).
import { hang, ok, reset, slow, status } from './backend.mjs';

const chance = (p) => Math.random() < p;
const http = (rate = 500, more = {}) => ({ kind: 'http', rate, timeoutMs: 15_000, ...more });
const steady = (rate, more) => [http(rate, more)];
const healthyUntilChange = (bad) => (t, req) => (t < 0 ? ok() : bad(t, req));

export const SCENARIOS = [
  // ---- must revert ----
  { name: 'error-burst', shouldRevert: true, targetMs: 1500, healthySeconds: 15, seconds: 15, load: steady(500), candidate: healthyUntilChange(() => status(500)) },
  // maxP99Ms + 3 s: an in-flight request older than maxP99Ms is slow already.
  { name: 'hang', shouldRevert: true, targetMs: 8000, healthySeconds: 15, seconds: 20, load: steady(500), candidate: healthyUntilChange(hang) },
  { name: 'hang-impatient-clients', shouldRevert: true, targetMs: 8000, healthySeconds: 15, seconds: 20, load: steady(500, { timeoutMs: 1000 }), candidate: healthyUntilChange(hang) },
  // cutover answers 504 after responseMs 3000; target responseMs + 2 s.
  {
    name: 'timeouts-504', shouldRevert: true, targetMs: 5000, healthySeconds: 15, seconds: 15, load: steady(500),
    config: { backends: { candidate: { timeouts: { responseMs: 3000 } } }, guard: { rules: { maxP99Ms: 2000 } } },
    candidate: healthyUntilChange(() => slow(10_000)),
  },
  { name: 'low-traffic', shouldRevert: true, targetMs: 30_000, healthySeconds: 10, seconds: 40, load: steady(5), candidate: healthyUntilChange(() => status(500)) },
  // 8 % against 5 % at 99.9 % confidence needs most of the 30 s window bad: ~30 s.
  { name: 'partial-errors-8pct', shouldRevert: true, targetMs: 40_000, healthySeconds: 15, seconds: 45, load: steady(500), candidate: healthyUntilChange(() => (chance(0.08) ? status(500) : ok())) },
  // 2 % slower than 5 s against the p99's 1 %: borderline at 99.9 % even over a full window.
  { name: 'p99-over-threshold', shouldRevert: true, targetMs: 40_000, healthySeconds: 15, seconds: 45, load: steady(500), candidate: healthyUntilChange(() => (chance(0.02) ? slow(6000) : ok())) },
  { name: 'connection-refused', shouldRevert: true, targetMs: 1500, healthySeconds: 15, seconds: 15, load: steady(500), candidate: () => ok(), candidateGoesDown: true },
  // 10 % against 5 %: conclusive once a window holds a few hundred bad-period requests.
  { name: 'resets-10pct', shouldRevert: true, targetMs: 30_000, healthySeconds: 15, seconds: 40, load: steady(500), candidate: healthyUntilChange(() => (chance(0.1) ? reset() : ok())) },
  // The rate rises 0 -> 15 % over 60 s; target: within the ramp.
  { name: 'slow-degradation', shouldRevert: true, targetMs: 60_000, healthySeconds: 10, seconds: 60, load: steady(500), candidate: healthyUntilChange((t) => (chance(Math.min(0.15, (0.15 * t) / 60)) ? status(500) : ok())) },
  // 10 ms -> 60 ms over 30 s while legacy stays at 20 ms; "bad" from when it passes 2 x legacy (t = 18 s).
  {
    // Legacy at 100 ms, so that the few tens of ms of jitter this shared, in-process setup adds to
    // every latency do not drown the drift (with legacy at 20 ms they did: its measured p99 was
    // 90-100 ms, and a drift to 60 ms never showed in a comparison of tails). "Bad" from the moment
    // the candidate is twice as slow as legacy.
    name: 'latency-drift-ratio', shouldRevert: true, targetMs: 20_000, healthySeconds: 15, seconds: 45, load: steady(500),
    config: { guard: { rules: { maxP99Ratio: 2 } } },
    legacy: () => ok(100),
    candidate: (t) => {
      const ms = 50 + 450 * Math.min(1, Math.max(0, t) / 20);
      return { status: 200, delayMs: ms, bad: ms > 200 };
    },
  },
  // ---- must not revert ----
  {
    name: 'healthy-noisy', shouldRevert: false, healthySeconds: 0, seconds: 20, load: steady(500),
    legacy: () => (chance(0.01) ? status(500) : chance(0.005) ? ok(800) : ok()),
    candidate: () => (chance(0.01) ? status(500) : chance(0.005) ? ok(800) : ok()),
  },
  {
    name: 'noise-under-threshold', shouldRevert: false, healthySeconds: 0, seconds: 60, load: steady(600),
    legacy: () => (chance(0.04) ? status(500) : ok()),
    candidate: () => (chance(0.04) ? status(500) : ok()),
  },
  {
    name: 'candidate-faster', shouldRevert: false, healthySeconds: 0, seconds: 20, load: steady(500),
    config: { guard: { rules: { maxP99Ratio: 1.5 } } }, legacy: () => ok(20), candidate: () => ok(5),
  },
  {
    name: 'legacy-failing', shouldRevert: false, healthySeconds: 0, seconds: 20, load: steady(500),
    config: { guard: { rules: { maxErrorRateDelta: 0.02 } } }, legacy: () => (chance(0.3) ? status(500) : ok()), candidate: () => ok(),
  },
  {
    name: '4xx-heavy', shouldRevert: false, healthySeconds: 0, seconds: 20, load: steady(500),
    legacy: () => (chance(0.4) ? status(404) : ok()), candidate: () => (chance(0.4) ? status(404) : ok()),
  },
  // 20 % of the clients walk away after 100 ms; the candidate answers within 300 ms.
  {
    name: 'client-aborts', shouldRevert: false, healthySeconds: 0, seconds: 20, load: steady(500, { abort: { share: 0.2, afterMs: 100 } }),
    legacy: () => ok(10), candidate: () => ok(50 + Math.random() * 250),
  },
  // 50 req/s more force the candidate on /fail, where it fails every request.
  {
    name: 'forged-override', shouldRevert: false, healthySeconds: 0, seconds: 20,
    config: { overrideHeader: 'x-cutover-backend' },
    load: [http(500), http(50, { path: '/fail', headers: { 'x-cutover-backend': 'candidate' } })],
    candidate: (_t, req) => (req.url.startsWith('/fail') ? status(500) : ok()),
  },
  { name: 'duplicate-host', shouldRevert: false, healthySeconds: 0, seconds: 20, load: [http(500), { kind: 'dup-host', count: 200 }], candidate: () => ok() },
  // At 100 % so that all 120 upgrades reach the candidate; their sockets stay open past responseMs.
  {
    name: 'ws-refused-upgrades', shouldRevert: false, healthySeconds: 0, seconds: 20, candidatePercent: 100,
    config: { backends: { candidate: { timeouts: { responseMs: 2000 } } } },
    backendOptions: { candidate: { upgrade: 'refuse' } },
    load: [http(500), { kind: 'ws-refused', count: 120 }], candidate: () => ok(),
  },
];

// How long one guard evaluation takes with many routes: 100 routes, each with 30 s of traffic on
// both backends and requests in flight, judged by the real GuardRunner (in this process, on the
// compiled code). Once with the default rules (counters only) and once with maxP99Ratio on
// (which merges the window's histograms). The budget: under 5 ms per interval.
import { parseConfig } from '../../dist/config/load.js';
import { Control } from '../../dist/control/control.js';
import { GuardRunner } from '../../dist/guard/runner.js';
import { createLogger } from '../../dist/log.js';
import { createMetrics } from '../../dist/metrics/metrics.js';
import { seriesFigures } from '../../dist/metrics/port.js';
import { Stats } from '../../dist/stats/store.js';

const ROUTES = 100;
const SECONDS = 30;
const PER_SECOND = 100; // requests per route and backend
const EVALUATIONS = 200;

function measure(rules) {
  const routes = Array.from({ length: ROUTES }, (_, i) => ({ name: `r${i}`, match: { pathPrefix: `/r${i}/` }, candidatePercent: 10 }));
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes,
    guard: { rules },
    log: { level: 'silent' },
  });
  const clock = { now: 1_000_000 };
  const stats = new Stats(60, 60, () => clock.now);
  const logger = createLogger('silent');
  const control = new Control(config, undefined, logger, () => clock.now);
  const metrics = createMetrics({ control, figures: () => seriesFigures(stats), version: 'bench', windowSeconds: stats.windowSeconds });
  const guard = new GuardRunner({ stats, control, logger, metrics, clock: () => clock.now }, config);
  for (const r of routes) {
    const s = stats.route(r.name);
    for (let sec = 0; sec < SECONDS; sec++) {
      const t = clock.now + sec * 1000;
      for (let i = 0; i < PER_SECOND; i++) {
        s.legacy.record(t + i, i % 50 === 0 ? 500 : 200, null, 5000 + i * 100, false);
        s.candidate.record(t + i, i % 60 === 0 ? 500 : 200, null, 4000 + i * 120, false);
      }
    }
    for (let i = 0; i < 20; i++) s.candidate.inFlight.add({ started: clock.now + SECONDS * 1000 - i * 100 });
  }
  clock.now += SECONDS * 1000;
  const times = [];
  for (let i = 0; i < EVALUATIONS; i++) {
    clock.now += 1; // the same slices: what is measured is the evaluation, not new traffic
    const t0 = performance.now();
    guard.tick();
    times.push(performance.now() - t0);
  }
  void guard.close();
  metrics.close();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  const states = guard.status().routes;
  return {
    rules: Object.entries(rules).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(', '),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: times.at(-1),
    verdicts: [...new Set(Object.values(states).map((s) => s.state))],
  };
}

export async function guardEvalScenario() {
  return {
    scenario: 'guard-eval',
    routes: ROUTES,
    windowSeconds: SECONDS,
    requestsPerRouteAndBackendPerSecond: PER_SECOND,
    evaluations: EVALUATIONS,
    budgetMs: 5,
    rows: [
      measure({ maxErrorRate: 0.05, maxP99Ms: 5000, maxP99Ratio: null, maxErrorRateDelta: null }),
      measure({ maxErrorRate: 0.05, maxP99Ms: 5000, maxP99Ratio: 2, maxErrorRateDelta: 0.02 }),
    ],
  };
}

// Percentiles measured through the proxy against a backend with a known delay.
import { expect, it } from 'vitest';
import { client, startBackend, startProxy, testConfig, track } from './helpers/servers.js';

it('records upstream latency from dispatch to response headers', async () => {
  // Every 10th request takes 200 ms, the rest 20 ms: p50 ≈ 20 ms, p99 ≈ 200 ms.
  let n = 0;
  const backend = await track(
    startBackend((_req, res) => {
      const delay = ++n % 10 === 0 ? 200 : 20;
      setTimeout(() => res.end('ok'), delay);
    }),
  );
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const http = await track(client());
  for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 20 }, () => http.get(`${proxy.url}/x`)));
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect(w.requests).toBe(200);
  expect(w.latencyMs.count).toBe(200);
  // Lower bounds are exact (timers never fire early); no upper bound on a shared machine.
  expect(w.latencyMs.p50).toBeGreaterThanOrEqual(19.5);
  expect(w.latencyMs.p50).toBeLessThan(w.latencyMs.p99); // most requests are the fast ones
  expect(w.latencyMs.p99).toBeGreaterThanOrEqual(199);
  expect(w.latencyMs.max).toBeGreaterThanOrEqual(w.latencyMs.p99);
  expect(w.latencyMs.p90).toBeLessThanOrEqual(w.latencyMs.p99);
  expect(w.histogram.length).toBeGreaterThan(10);
});

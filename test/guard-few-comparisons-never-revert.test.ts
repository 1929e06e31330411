// Low traffic: a handful of shadowed requests, every one of them different. Below minRequests
// comparisons the rule is not enough evidence, neither a pass nor a failure: the guard never
// reverts on it, and its status says how many comparisons it has.
import { expect, it } from 'vitest';
import { client, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { orderBackend } from './helpers/parity-backends.js';

it('does not revert on 10 comparisons, all different, below minRequests 30', async () => {
  const legacy = await track(orderBackend(false));
  const candidate = await track(orderBackend(true));
  const config = testConfig([legacy.url], [candidate.url], {
    routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 50, shadow: { percent: 100 } }],
    guard: { enabled: true, intervalMs: 50, minRequests: 30, rules: { maxErrorRate: 0.05, maxP99Ms: null, maxMismatchRate: 0.05 } },
  });
  const proxy = await track(startProxy(config));
  const http = await track(client());
  for (let i = 0; i < 10; i++) expect((await http.get(`${proxy.url}/orders/${i}`)).status).toBe(200);
  const summary = () => proxy.app.guard.status().routes.orders?.lastVerdict?.summary ?? '';
  // Wait for an evaluation that has seen all ten comparisons.
  await waitFor(() => summary().includes('10 comparisons, fewer than minRequests 30'), 10_000, 'a verdict on 10 comparisons');
  expect(proxy.app.parity.route('orders').figures.totals()).toMatchObject({ compared: 10, mismatched: 10 });
  expect(proxy.app.guard.status().routes.orders?.lastVerdict?.kind).toBe('insufficient-data');
  expect(proxy.app.control.latch('orders')).toBeUndefined();
  expect(proxy.app.control.percent('orders')).toBe(50);
});

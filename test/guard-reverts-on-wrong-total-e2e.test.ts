// End to end: the candidate answers every request 200 and fast, but with a wrong `total`. Status
// codes and latency are healthy; the shadow's comparisons are not. The guard reverts on
// maxMismatchRate, and the latch and the history say why: the mismatch rate and `/total`.
import { expect, it } from 'vitest';
import { admin, client, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { orderBackend } from './helpers/parity-backends.js';

it('reverts a candidate that answers fast and wrong, naming the mismatch rate and /total', async () => {
  const legacy = await track(orderBackend(false));
  const candidate = await track(orderBackend(true));
  const config = testConfig([legacy.url], [candidate.url], {
    routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 50, shadow: { percent: 100 } }],
    guard: { enabled: true, intervalMs: 100, minRequests: 20, confidence: 0.99, scope: 'route', rules: { maxErrorRate: 0.05, maxP99Ms: null, maxMismatchRate: 0.05 } },
  });
  const proxy = await track(startProxy(config));
  const http = await track(client());
  let n = 0;
  const statuses = new Set<number>();
  while (!proxy.app.control.latch('orders') && n < 5000) {
    const r = await http.get(`${proxy.url}/orders/${n++ % 50}`);
    statuses.add(r.status);
  }
  // Every client got a 200: nothing but parity could have told.
  expect([...statuses]).toEqual([200]);
  const latch = proxy.app.control.latch('orders')!;
  expect(latch).toMatchObject({ state: 'reverted', rule: 'maxMismatchRate' });
  expect(latch.reason).toMatch(/mismatch rate 100\.0 % \(\d+ of \d+ comparisons, noise excluded, differing: \/total \(\d+\)\)/);
  expect(proxy.app.control.percent('orders')).toBe(0);
  const history = await admin(proxy.admin, 'GET', '/api/v1/history');
  expect(JSON.stringify(history.body)).toContain('differing: /total');
  // After the revert legacy answers everyone.
  await waitFor(async () => (await http.get(`${proxy.url}/orders/1`)).headers['x-cutover-backend'] === 'legacy');
});

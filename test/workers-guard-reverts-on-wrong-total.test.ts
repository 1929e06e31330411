// workers: 2: the shadow taps compare in the workers, and the primary's guard judges their
// comparisons merged. A candidate that answers 200, fast and with a wrong `total` is reverted in
// every worker, the reason naming the mismatch rate and /total; the parity API and the metrics
// add both workers' comparisons up.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { orderBackend } from './helpers/parity-backends.js';
import { admin, waitFor, type TestBackend } from './helpers/servers.js';
import { onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
let legacy: TestBackend;
let candidate: TestBackend;
beforeAll(async () => {
  legacy = await orderBackend(false);
  candidate = await orderBackend(true);
  w = await startWorkers(
    {
      routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 50, shadow: { percent: 100 } }],
      guard: { enabled: true, intervalMs: 100, minRequests: 20, confidence: 0.99, scope: 'route', rules: { maxErrorRate: 0.05, maxP99Ms: null, maxMismatchRate: 0.05 } },
    },
    { legacy, candidate },
  );
}, 60_000);
afterAll(async () => w?.close());

it('reverts on the workers\' merged comparisons, naming /total', async () => {
  const statuses = new Set<number>();
  let n = 0;
  const latched = async () => (await w.status()).routes[0].guard !== null;
  while (n < 2000 && !(n % 20 === 0 && (await latched()))) statuses.add((await onNewConnection(`${w.proxy.url}/orders/${n++ % 50}`)).status);
  expect([...statuses]).toEqual([200]);
  const route = (await w.status()).routes[0];
  expect(route.guard).toMatchObject({ state: 'reverted', rule: 'maxMismatchRate' });
  expect(route.guard.reason).toMatch(/mismatch rate .* differing: \/total/);
  expect(route.candidatePercent).toBe(0);
  // Both workers compared, and the primary shows their figures added up.
  const served = (await w.status()).workers.map((x: { served: { legacy: number; candidate: number } }) => x.served.legacy + x.served.candidate);
  expect(served.every((s: number) => s > 0)).toBe(true);
  const parity = (await admin(w.adminUrl, 'GET', '/api/v1/parity')).body.routes.orders;
  expect(parity.mismatched).toBeGreaterThanOrEqual(20);
  expect(parity.differences[0].path).toBe('/total');
  const text = await (await fetch(`${w.adminUrl}/metrics`)).text();
  const mismatched = Number(/^cutover_shadow_requests_total\{route="orders",outcome="mismatched"\} (\d+)/m.exec(text)?.[1]);
  expect(mismatched).toBe(parity.mismatched);
  // After the revert legacy answers everyone, in both workers.
  await waitFor(async () => (await onNewConnection(`${w.proxy.url}/orders/1`)).headers['x-cutover-backend'] === 'legacy');
});

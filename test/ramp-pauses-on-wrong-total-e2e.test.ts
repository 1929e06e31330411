// End to end with real backends: a ramp with onBreach: pause on a shadowed route. The candidate
// answers every request 200 and fast, but with a wrong total: the mismatch rate pauses the ramp
// for a person (no revert, the split stays), the reason names /total, and GET /api/v1/ramp shows it.
import { expect, it } from 'vitest';
import { admin, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { rampGuard, traffic } from './helpers/ramp.js';
import { orderBackend } from './helpers/parity-backends.js';

it('pauses the ramp on a wrong total, naming /total, and keeps the split', async () => {
  const legacy = await track(orderBackend(false));
  const candidate = await track(orderBackend(true));
  const proxy = await track(
    startProxy(
      testConfig([legacy.url], [candidate.url], {
        routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 50 }, ramp: { steps: [10, 50, 100], holdSeconds: 3600, onBreach: 'pause' } }],
        guard: { ...rampGuard, minRequests: 20, rules: { ...rampGuard.rules, maxMismatchRate: 0.05 } },
      }),
      { rampIntervalMs: 50 },
    ),
  );
  const load = traffic(`${proxy.url}/orders/7`);
  await track({ close: () => load.stop() });
  expect((await admin(proxy.admin, 'POST', '/api/v1/ramp/start')).status).toBe(200);
  await waitFor(() => proxy.app.control.ramp('orders')?.status === 'paused', 20_000, 'the ramp to pause');
  expect(proxy.app.control.latch('orders')).toBeUndefined();
  expect(proxy.app.control.percent('orders')).toBe(10);
  const ramp = proxy.app.control.ramp('orders')!;
  expect(ramp.reason).toMatch(/^breach: .*mismatch rate 100\.0 % \(\d+ of \d+ comparisons, noise excluded, differing: \/total \(\d+\)\)/);
  const status = await admin(proxy.admin, 'GET', '/api/v1/ramp');
  expect(status.body.routes.orders).toMatchObject({ state: 'paused', candidatePercent: 10, waitingFor: 'an operator (resume, promote or abort)' });
  expect(JSON.stringify(status.body.routes.orders.breachEvidence)).toContain('maxMismatchRate');
});

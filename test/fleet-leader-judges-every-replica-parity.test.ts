// Fleet-wide parity: every replica publishes its comparisons with its guard snapshot and the
// leader judges their sum. A candidate whose totals are wrong only for the traffic of replica B
// (B's comparisons) is reverted by leader A on maxMismatchRate, and the revert reaches B.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, waitFor, type TestBackend } from './helpers/servers.js';
import { order } from './helpers/parity-backends.js';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis.js';

const run = redisAvailable();
let redis: TestRedis;
let legacy: TestBackend;
let candidate: TestBackend;

const json = (wrong: (via: unknown) => boolean) =>
  startBackend((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(order(req.url ?? '/', wrong(req.headers['x-via']))));
  });

beforeAll(async () => {
  if (!run) return;
  redis = await startRedis();
  legacy = await json(() => false);
  // Wrong only for requests that came through replica B (its clients add x-via: b; the shadow copy carries it too).
  candidate = await json((via) => via === 'b');
});
afterAll(async () => {
  await legacy?.close();
  await candidate?.close();
  await redis?.stop();
});

const replica = (name: string) =>
  startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 50, shadow: { percent: 100 } }],
      state: { redis: { url: redis.url, key: 'parity', leaseTtlMs: 2000 } },
      guard: { enabled: true, intervalMs: 100, minRequests: 20, rules: { maxErrorRate: 0.05, maxP99Ms: null, maxMismatchRate: 0.05 } },
    }),
    { replica: name },
  );

it.runIf(run)('the leader reverts on comparisons made only behind another replica, naming /total', async () => {
  const a = await replica('a');
  await waitFor(() => a.app.fleet!.lease.leads(), 3000, 'a leading');
  const b = await replica('b');
  try {
    await waitFor(() => b.app.fleet!.mode() === 'follower', 3000, 'b following');
    // Traffic only through B: A compares nothing itself.
    for (let i = 0; i < 400 && !a.app.control.latch('orders'); i++) {
      await (await fetch(`${b.url}/orders/${i}`, { headers: { 'x-via': 'b' } })).text();
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 100)); // let a snapshot go out
    }
    await waitFor(() => a.app.control.latch('orders') !== undefined, 3000, 'the revert on the leader');
    expect(a.app.parity.names().includes('orders') ? a.app.parity.route('orders').figures.totals().compared : 0).toBe(0);
    const latch = a.app.control.latch('orders')!;
    expect(latch.rule).toBe('maxMismatchRate');
    expect(latch.reason).toMatch(/mismatch rate 100\.0 % \(\d+ of \d+ comparisons, noise excluded, differing: \/total \(\d+\)\)/);
    await waitFor(() => b.app.control.percent('orders') === 0 && b.app.control.latch('orders') !== undefined, 3000, 'the revert on b');
    expect(b.app.guard.mode).toBe('follower');
  } finally {
    await b.close();
    await a.close();
  }
});

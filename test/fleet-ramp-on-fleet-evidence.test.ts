// A ramp in a fleet: only the guard's leader takes steps, and it judges each hold on every
// replica's traffic. Here all traffic goes through the follower, so the leader's own figures are
// empty: the ramp can only advance on the fleet's evidence.
import { expect, it } from 'vitest';
import { rampGuard, traffic } from './helpers/ramp.js';
import { redisAvailable, startRedis } from './helpers/redis.js';
import { admin, named, startProxy, testConfig, waitFor } from './helpers/servers.js';

const run = redisAvailable();

it.runIf(run)('the leader steps a ramp on traffic that reached only the follower', async () => {
  const redis = await startRedis();
  const legacy = await named('legacy');
  const candidate = await named('candidate');
  const replica = (name: string) =>
    startProxy(
      testConfig([legacy.url], [candidate.url], {
        routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds: 1 } }],
        state: { redis: { url: redis.url, key: 'ramp' } },
        guard: rampGuard,
      }),
      { replica: name, rampIntervalMs: 100 },
    );
  const a = await replica('a');
  await waitFor(() => a.app.fleet!.lease.leads(), 3000, 'a leading');
  const b = await replica('b');
  const load = traffic(b.url, 8);
  try {
    await waitFor(() => b.app.fleet!.mode() === 'follower', 3000, 'b following');
    expect((await admin(b.admin, 'POST', '/api/v1/ramp/start', { reason: 'test' })).status).toBe(200);
    await waitFor(() => a.app.control.ramp('default')?.status === 'done', 60_000, 'the ramp to finish on the leader');
    await waitFor(() => b.app.control.percent('default') === 100, 3000, 'the last step on b');
    const steps = b.app.control
      .history()
      .filter((c) => c.kind === 'split' && c.route === 'default')
      .reverse();
    expect(steps.map((c) => c.to)).toEqual([10, 50, 100]);
    // The steps after the first were taken by the leader, on b's traffic.
    expect(steps.slice(1).every((c) => c.replica === 'a' && c.source === 'ramp')).toBe(true);
    expect(a.app.stats.routeSnapshot('default').candidate.cumulative.requests).toBe(0);
  } finally {
    await load.stop();
    await b.close();
    await a.close();
    await legacy.close();
    await candidate.close();
    await redis.stop();
  }
}, 90_000);

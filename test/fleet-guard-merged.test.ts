// Fleet-wide judgment: the leader judges the merged figures of every replica. A candidate that
// fails only for the traffic of replica B is reverted by leader A, and the revert reaches B.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, startBackend, startProxy, testConfig, waitFor, type TestBackend } from './helpers/servers.js';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis.js';

const run = redisAvailable();
let redis: TestRedis;
let legacy: TestBackend;
let candidate: TestBackend;

beforeAll(async () => {
  if (!run) return;
  redis = await startRedis();
  legacy = await startBackend((_req, res) => res.end('legacy'));
  // Fails only the requests that came through replica B (it adds x-via: b).
  candidate = await startBackend((req, res) => {
    res.statusCode = req.headers['x-via'] === 'b' ? 500 : 200;
    res.end('candidate');
  });
});
afterAll(async () => {
  await legacy?.close();
  await candidate?.close();
  await redis?.stop();
});

const replica = (name: string) =>
  startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 50 }],
      state: { redis: { url: redis.url, key: 'guard', leaseTtlMs: 2000 } },
      guard: { enabled: true, intervalMs: 100 },
    }),
    { replica: name },
  );

it.runIf(run)('the leader reverts a candidate that fails only behind another replica, and every replica applies it', async () => {
  const a = await replica('a');
  await waitFor(() => a.app.fleet!.lease.leads(), 3000, 'a leading');
  const b = await replica('b');
  try {
    await waitFor(() => b.app.fleet!.mode() === 'follower', 3000, 'b following');
    // Traffic only through B: B never judges it itself.
    for (let i = 0; i < 60 && !a.app.control.latch('default'); i++) {
      await (await fetch(`${b.url}/x`, { headers: { 'x-via': 'b' } })).text();
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(() => a.app.control.latch('default') !== undefined, 3000, 'the revert on the leader');
    const latch = a.app.control.latch('default')!;
    expect(latch.rule).toBe('maxErrorRate');
    await waitFor(() => b.app.control.percent('default') === 0 && b.app.control.latch('default') !== undefined, 1500, 'the revert on b');
    // B made no decision of its own: its guard followed.
    expect(b.app.guard.mode).toBe('follower');
    const status = (await admin(a.admin, 'GET', '/api/v1/status')).body;
    expect(status.fleet.leading).toBe(true);
    expect(status.fleet.replicas.map((r: { replica: string }) => r.replica).sort()).toEqual(['a', 'b']);
    const history = (await admin(b.admin, 'GET', '/api/v1/history')).body.history;
    expect(history.find((c: { to: unknown }) => c.to === 'reverted')).toMatchObject({ replica: 'a', source: 'guard' });
  } finally {
    await b.close();
    await a.close();
  }
});

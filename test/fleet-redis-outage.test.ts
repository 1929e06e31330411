// Redis goes away mid-load: no request fails because of it, replicas serve on their last state,
// raising the split answers 503 store_unavailable, a rollback still applies (not saved yet) and
// is written when Redis returns; status and metrics say the fleet is degraded.
import { expect, it } from 'vitest';
import { admin, named, startProxy, testConfig, waitFor } from './helpers/servers.js';
import { redisAvailable, startRedis } from './helpers/redis.js';

const run = redisAvailable();

it.runIf(run)('keeps serving through a Redis outage and writes the rollback when Redis returns', async () => {
  const redis = await startRedis();
  const legacy = await named('legacy');
  const candidate = await named('candidate');
  const replica = (name: string) =>
    startProxy(
      testConfig([legacy.url], [candidate.url], {
        routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 20 }],
        state: { redis: { url: redis.url, key: 'outage' } },
        guard: { enabled: true, intervalMs: 100 },
      }),
      { replica: name },
    );
  const a = await replica('a');
  const b = await replica('b');
  let stop = false;
  const outcomes = { ok: 0, failed: 0 };
  const load = (async () => {
    while (!stop) {
      for (const p of [a, b]) {
        try {
          const r = await fetch(`${p.url}/x`);
          await r.text();
          if (r.status === 200) outcomes.ok++;
          else outcomes.failed++;
        } catch {
          outcomes.failed++;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop(true); // SIGKILL: an outage, not a shutdown
    await waitFor(async () => (await admin(a.admin, 'GET', '/api/v1/status')).body.fleet.degraded === true, 3000, 'a degraded');
    const raise = await admin(a.admin, 'PUT', '/api/v1/split', { candidatePercent: 50 });
    expect(raise.status).toBe(503);
    expect(raise.body.error.code).toBe('store_unavailable');
    expect(a.app.control.percent('default')).toBe(20);
    const rollback = await admin(a.admin, 'POST', '/api/v1/rollback', { reason: 'outage drill' });
    expect(rollback.status).toBe(202);
    expect(rollback.body.persisted).toBe(false);
    expect(a.app.control.percent('default')).toBe(0);
    const metrics = (await admin(a.admin, 'GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^cutover_fleet_store_up 0$/m);
    await new Promise((r) => setTimeout(r, 300));
    await redis.restart(); // empty: it kept nothing
    // The rollback made during the outage reaches Redis, and from there replica b.
    await waitFor(() => b.app.control.percent('default') === 0, 15_000, 'the rollback on b');
    await waitFor(async () => (await admin(a.admin, 'GET', '/api/v1/status')).body.fleet.store.healthy === true, 5000, 'a healthy again');
  } finally {
    stop = true;
    await load;
    await a.close();
    await b.close();
    await legacy.close();
    await candidate.close();
    await redis.stop();
  }
  expect(outcomes.failed).toBe(0);
  expect(outcomes.ok).toBeGreaterThan(50);
}, 40_000);

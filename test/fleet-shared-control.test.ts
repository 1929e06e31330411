// Fleet mode: replicas sharing one real Redis are one system. A change made through any replica's
// admin API is served by every replica within a second; a new replica starts from the shared
// state (a latched revert stays latched); the state survives every replica restarting.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, named, startProxy, testConfig, waitFor, type TestBackend, type TestProxy } from './helpers/servers.js';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis.js';
import { runCli } from './helpers/process.js';

const run = redisAvailable();
let redis: TestRedis;
let legacy: TestBackend;
let candidate: TestBackend;

beforeAll(async () => {
  if (!run) return;
  redis = await startRedis();
  legacy = await named('legacy');
  candidate = await named('candidate');
});
afterAll(async () => {
  await legacy?.close();
  await candidate?.close();
  await redis?.stop();
});

const replica = (name: string, key = 'shared') =>
  startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
      state: { redis: { url: redis.url, key } },
    }),
    { replica: name },
  );

async function share(p: TestProxy, n = 100): Promise<number> {
  let c = 0;
  for (let i = 0; i < n; i++) if ((await (await fetch(`${p.url}/x`)).text()) === 'candidate') c++;
  return c / n;
}

it.runIf(run)('a split set through one replica is served by the other within a second', async () => {
  const a = await replica('a');
  const b = await replica('b');
  try {
    expect((await admin(a.admin, 'PUT', '/api/v1/split', { candidatePercent: 30 })).status).toBe(200);
    const t0 = Date.now();
    await waitFor(() => b.app.control.percent('default') === 30, 1000, 'replica b applying the split');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await share(b)).toBeCloseTo(0.3, 5);
    const history = (await admin(b.admin, 'GET', '/api/v1/history')).body;
    expect(history.history.find((c: { kind: string }) => c.kind === 'split')).toMatchObject({ replica: 'a', kind: 'split', to: 30 });
    const status = (await admin(b.admin, 'GET', '/api/v1/status')).body;
    expect(status.fleet).toMatchObject({ mode: 'redis', replica: 'b', degraded: expect.any(Boolean) });
    await waitFor(async () => (await admin(b.admin, 'GET', '/api/v1/status')).body.fleet.replicas.length === 2, 3000, 'both replicas reporting');
    const cli = await runCli(['status', '--admin', b.admin]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^fleet: replica b/m);
    expect(cli.stdout).toMatch(/^  a +reporting/m);
  } finally {
    await a.close();
    await b.close();
  }
}, 20_000);

it.runIf(run)('a new replica starts latched after a revert, and the state survives every replica restarting', async () => {
  const a = await replica('a', 'restart');
  await admin(a.admin, 'PUT', '/api/v1/split', { candidatePercent: 40 });
  // A revert as the guard makes it (latched, 0 %), through control like the guard does.
  a.app.control.revert(['default'], { state: 'reverted', since: new Date().toISOString(), rule: 'maxErrorRate', reason: 'test', evidence: {} }, 'test revert');
  await a.app.control.flush();
  await a.close();
  const b = await replica('b', 'restart');
  try {
    expect(b.app.control.percent('default')).toBe(0);
    expect(b.app.control.latch('default')?.rule).toBe('maxErrorRate');
    expect(await share(b, 20)).toBe(0);
    const raise = await admin(b.admin, 'PUT', '/api/v1/split', { candidatePercent: 10 });
    expect(raise.status).toBe(409);
  } finally {
    await b.close();
  }
});

// Fleet mode with workers: 2 on one replica: its primary is the replica. A split set through
// another replica reaches both of its workers within a second, and the fleet lists it once (its
// workers' figures are published merged, as one replica's).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, named, startProxy, testConfig, waitFor, type TestBackend } from './helpers/servers.js';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis.js';
import { onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

const run = redisAvailable();
let redis: TestRedis;
let legacy: TestBackend;
let candidate: TestBackend;
let w: WorkersSetup | undefined;

beforeAll(async () => {
  if (!run) return;
  redis = await startRedis();
  legacy = await named('legacy');
  candidate = await named('candidate');
  w = await startWorkers({ state: { redis: { url: redis.url, key: 'workers' } }, guard: { enabled: true, intervalMs: 200 } }, { legacy, candidate });
}, 60_000);
afterAll(async () => {
  await w?.close(); // closes the backends too
  await redis?.stop();
});

it.runIf(run)('a split set through another replica is served by both workers of this one', async () => {
  const other = await startProxy(
    testConfig([legacy.url], [candidate.url], { state: { redis: { url: redis.url, key: 'workers' } }, guard: { enabled: true, intervalMs: 200 } }),
    { replica: 'other' },
  );
  try {
    expect((await admin(other.admin, 'PUT', '/api/v1/split', { candidatePercent: 100, reason: 'via the other replica' })).status).toBe(200);
    await waitFor(async () => (await onNewConnection(`${w!.proxy.url}/a`)).body === 'candidate', 1500, 'the split on the workers replica');
    for (let i = 0; i < 20; i++) expect((await onNewConnection(`${w!.proxy.url}/b${i}`)).body).toBe('candidate');
    const status = await w!.status();
    for (const x of status.workers as Array<{ served: { candidate: number } }>) expect(x.served.candidate).toBeGreaterThan(0);
    // The fleet sees two replicas, not three: the workers are one replica's.
    await waitFor(async () => (await w!.status()).fleet.replicas.length === 2, 3000, 'two replicas');
    // Its count is its workers' (reported every guard interval), published every interval: it catches up.
    const mine = async () => {
      const fleet = (await w!.status()).fleet;
      return fleet.replicas.find((r: { replica: string }) => r.replica === fleet.replica) as { requests: number };
    };
    await waitFor(async () => (await mine()).requests >= 21, 3000, "the replica's requests adding up its workers'");
    expect((await w!.status()).fleet.replicas).toHaveLength(2);
  } finally {
    await other.close();
  }
}, 60_000);

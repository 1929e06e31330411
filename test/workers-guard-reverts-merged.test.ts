// workers: 2: the primary's guard judges the workers' merged figures. A failing candidate whose
// failures are split between the workers, fewer than minRequests in each, is reverted; every
// worker applies the revert (both send the next requests to legacy).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, startBackend, waitFor } from './helpers/servers.js';
import { onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

const MIN = 25;
let w: WorkersSetup;
beforeAll(async () => {
  const legacy = await startBackend((_req, res) => res.end('legacy'));
  const candidate = await startBackend((_req, res) => {
    res.statusCode = 500;
    res.end('candidate');
  });
  w = await startWorkers(
    {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }],
      guard: { enabled: true, intervalMs: 100, minRequests: MIN, fastWindowSeconds: null },
    },
    { legacy, candidate },
  );
}, 60_000);
afterAll(async () => w?.close());

it('reverts on the merged figures of both workers, and both apply it', async () => {
  let sent = 0;
  const reverted = async () => (await admin(w.adminUrl, 'GET', '/api/v1/guard')).body.routes.default.latch !== null;
  // Failing requests on new connections (one worker after the other) until the guard reverts.
  while (!(await reverted())) {
    expect(sent).toBeLessThan(400);
    await onNewConnection(`${w.proxy.url}/f${sent++}`);
  }
  const before = (await w.status()).workers as Array<{ served: { legacy: number; candidate: number } }>;
  const candidate = before.map((x) => x.served.candidate);
  // Neither worker alone had minRequests candidate requests: only the merged figures did.
  expect(candidate[0] + candidate[1]).toBeGreaterThanOrEqual(MIN);
  expect(Math.max(...candidate)).toBeLessThan(MIN);
  const latch = (await admin(w.adminUrl, 'GET', '/api/v1/guard')).body.routes.default.latch;
  expect(latch.rule).toBe('maxErrorRate');

  // Every worker applies it: the next requests reach legacy only, from both workers.
  await waitFor(async () => (await onNewConnection(`${w.proxy.url}/a`)).body === 'legacy', 3000, 'legacy again');
  for (let i = 0; i < 20; i++) expect((await onNewConnection(`${w.proxy.url}/after${i}`)).headers['x-cutover-backend']).toBe('legacy');
  const after = (await w.status()).workers as Array<{ served: { legacy: number; candidate: number } }>;
  for (const x of after) expect(x.served.legacy).toBeGreaterThan(0);
  expect(after.map((x) => x.served.candidate)).toEqual(candidate);
}, 90_000);

// workers: 2: a split set through the admin API (on the primary) is applied by every worker:
// requests on new connections, handed to one worker after the other, reach both backends from
// both workers; and each worker, asked on a connection of its own, serves both backends.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, track } from './helpers/servers.js';
import { connectionPerWorker, onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
beforeAll(async () => {
  w = await startWorkers();
}, 60_000);
afterAll(async () => w?.close());

it('serves a split set through the admin API from both workers', async () => {
  expect((await admin(w.adminUrl, 'PUT', '/api/v1/split', { candidatePercent: 50, reason: 'both workers' })).status).toBe(200);
  const seen: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const r = await onNewConnection(`${w.proxy.url}/x${i}`);
    expect(r.status).toBe(200);
    const b = String(r.headers['x-cutover-backend']);
    seen[b] = (seen[b] ?? 0) + 1;
  }
  expect(seen.legacy).toBeGreaterThan(40);
  expect(seen.candidate).toBeGreaterThan(40);
  // 100 requests on a connection to each worker: whatever the spread of the connections above,
  // each worker is asked often enough that a split it applied shows both backends.
  const { byWorker } = await track(connectionPerWorker(w, '/probe'));
  expect(byWorker).toHaveLength(2);
  for (const c of byWorker) {
    const backends = new Set<string>();
    for (let i = 0; i < 100; i++) backends.add(String((await c.get(`/w${c.workerId}/${i}`)).headers['x-cutover-backend']));
    expect([...backends].sort()).toEqual(['candidate', 'legacy']);
  }
  const workers = (await w.status()).workers as Array<{ pid: number; served: { legacy: number; candidate: number } }>;
  expect(workers).toHaveLength(2);
  // Each worker served both backends: each applied the split the primary broadcast.
  for (const x of workers) {
    expect(x.served.candidate).toBeGreaterThan(0);
    expect(x.served.legacy).toBeGreaterThan(0);
  }
  expect(workers[0].pid).not.toBe(workers[1].pid);
}, 60_000);

// workers: 2: a shadow share set through the admin API (on the primary) reaches every worker with
// the state broadcast: each worker, asked on a connection of its own, copies its next requests;
// the primary answers GET /api/v1/parity/cases with every worker's sampled requests.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, track, waitFor } from './helpers/servers.js';
import { connectionPerWorker, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
beforeAll(async () => {
  w = await startWorkers({ routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 0 } }] });
}, 60_000);
afterAll(async () => w?.close());

it('applies PUT /api/v1/shadow in both workers', async () => {
  const { byWorker } = await track(connectionPerWorker(w, '/probe'));
  expect(byWorker).toHaveLength(2);
  for (const c of byWorker) for (let i = 0; i < 5; i++) expect((await c.get(`/before/${i}`)).body).toBe('legacy');
  expect(w.candidate.hits).toBe(0); // the config's 0 %

  const put = await admin(w.adminUrl, 'PUT', '/api/v1/shadow', { route: 'default', percent: 100 });
  expect(put.status).toBe(200);
  expect(put.body.routes).toEqual({ default: 100 });
  expect((await admin(w.adminUrl, 'GET', '/api/v1/shadow')).body).toEqual({ routes: { default: 100 } });
  for (const c of byWorker) {
    // The broadcast reaches the worker right after the answer: once one request of it is copied...
    const before = w.candidate.hits;
    await waitFor(async () => (await c.get(`/w${c.workerId}/first`)).status === 200 && w.candidate.hits > before, 5000, `worker ${c.workerId} copies`);
    // ...every later one is (100 %).
    const from = w.candidate.hits;
    for (let i = 0; i < 10; i++) expect((await c.get(`/w${c.workerId}/${i}`)).body).toBe('legacy');
    await waitFor(() => w.candidate.hits === from + 10, 5000, `worker ${c.workerId}'s ten requests copied`);
  }
  // The cases each worker sampled, answered together by the primary as one cases file.
  const res = await fetch(`${w.adminUrl}/api/v1/parity/cases?route=default`);
  expect(res.status).toBe(200);
  const paths = (await res.text()).trim().split('\n').map((l) => JSON.parse(l).path as string);
  for (const c of byWorker) expect(paths).toContain(`/w${c.workerId}/9`);
  const limited = (await (await fetch(`${w.adminUrl}/api/v1/parity/cases?route=default&limit=3`)).text()).trim().split('\n');
  expect(limited).toHaveLength(3);
  expect((await fetch(`${w.adminUrl}/api/v1/parity/cases?route=nope`)).status).toBe(404);
}, 60_000);

// workers: 2: the primary's guard judges the workers' merged figures. A failing candidate whose
// failures are split between the workers, fewer than minRequests in each, is reverted; every
// worker applies the revert (both send the next requests to legacy). Which worker serves each
// request is chosen (one keep-alive connection to each), not left to how connections are spread.
import { expect, it } from 'vitest';
import { admin, startBackend, track, waitFor } from './helpers/servers.js';
import { connectionPerWorker, startWorkers } from './helpers/workers.js';

const MIN = 25;

it('reverts on the merged figures of both workers, and both apply it', async () => {
  const legacy = await track(startBackend((_req, res) => res.end('legacy')));
  const candidate = await track(
    startBackend((_req, res) => {
      res.statusCode = 500;
      res.end('candidate');
    }),
  );
  const w = await track(
    startWorkers(
      {
        // /probe finds each connection's worker without adding to the judged route's figures.
        routes: [
          { name: 'probe', match: { pathPrefix: '/probe' }, candidatePercent: 0 },
          { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 },
        ],
        guard: { enabled: true, intervalMs: 100, minRequests: MIN, fastWindowSeconds: null },
        // Stopped when the test ends: no drain period to wait out in the hook.
        shutdownDrainSeconds: 0,
      },
      { legacy, candidate },
    ),
  );
  const {
    byWorker: [x, y],
  } = await track(connectionPerWorker(w, '/probe'));
  const guard = async () => (await admin(w.adminUrl, 'GET', '/api/v1/guard')).body.routes.default;
  const judged = (rules: Array<{ rule: string; n: number }> | undefined) => rules?.find((r) => r.rule === 'maxErrorRate')?.n;
  const candidateServed = async () => {
    const workers = (await w.status()).workers as Array<{ id: number; served: { candidate: number } }>;
    return [x, y].map((c) => workers.find((v) => v.id === c.workerId)!.served.candidate);
  };

  // minRequests - 1 failures through one worker: the guard judges all of them and does not revert.
  for (let i = 0; i < MIN - 1; i++) expect((await x.get(`/f${i}`)).status).toBe(500);
  await waitFor(async () => judged((await guard()).lastVerdict?.rules) === MIN - 1, 10_000, `the guard judging worker ${x.workerId}'s ${MIN - 1} requests`);
  const short = await guard();
  expect(short.state).toBe('insufficient-data');
  expect(short.latch).toBeNull();

  // One more through the other worker: neither worker alone has minRequests, the merged figures do.
  expect((await y.get('/f-last')).status).toBe(500);
  await waitFor(async () => (await guard()).latch !== null, 10_000, 'the revert');
  const candidateAtRevert = await candidateServed();
  expect(candidateAtRevert).toEqual([MIN - 1, 1]);
  const latch = (await guard()).latch;
  expect(latch.rule).toBe('maxErrorRate');
  expect(judged(latch.evidence.rules)).toBe(MIN);

  // Every worker applies it: the next requests on each worker's connection reach legacy only.
  for (const c of [x, y]) await waitFor(async () => (await c.get('/a')).body === 'legacy', 3000, `worker ${c.workerId} applying the revert`);
  const candidateApplied = await candidateServed();
  for (const c of [x, y]) for (let i = 0; i < 10; i++) expect((await c.get(`/after${i}`)).headers['x-cutover-backend']).toBe('legacy');
  expect(await candidateServed()).toEqual(candidateApplied);
}, 90_000);

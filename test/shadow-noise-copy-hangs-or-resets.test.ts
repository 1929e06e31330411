// A noise copy (the second request to legacy) that hangs or resets never delays or fails the
// client, and the comparison with the candidate is counted as usual; the copy's failure is
// counted by kind, and nothing is learned from it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const answer = (res: ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ total: 10, at: Math.random() }));
};
/** Legacy answers the client; a request with the shadow header (the noise copy) gets `copy`. */
const legacyWith = (copy: (req: IncomingMessage, res: ServerResponse) => void) =>
  startBackend((req, res) => {
    req.resume();
    if (req.headers['x-cutover-shadow'] === '1') copy(req, res);
    else answer(res);
  });
const route = { name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100, timeoutMs: 300, noise: { percent: 100 } } };
const parityOf = async (url: string) => (await admin(url, 'GET', '/api/v1/parity')).body.routes.api;

it('answers the client while the noise copy hangs, then counts it as errors.timeout', async () => {
  const hanging: ServerResponse[] = [];
  const legacy = await track(legacyWith((_req, res) => hanging.push(res)));
  const candidate = await track(startBackend((req, res) => (req.resume(), answer(res))));
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [route] })));
  const http = await track(client());
  for (let i = 0; i < 3; i++) expect(JSON.parse((await http.get(`${proxy.url}/x`)).body).total).toBe(10);
  // The client had all three answers while the noise copies were still open at legacy.
  expect(hanging.filter((r) => !r.writableEnded)).toHaveLength(3);
  await waitFor(async () => (await parityOf(proxy.admin)).errors.timeout === 3, 5000, 'three noise copies timed out');
  const p = await parityOf(proxy.admin);
  // The comparisons with the candidate still count (`at` differs: nothing was learned to hide it).
  expect(p).toMatchObject({ compared: 3, mismatched: 3, noise: [] });
  expect(proxy.app.parity.route('api').open.size).toBe(0);
});

it('answers the client when the noise copy resets, and counts it as errors.reset', async () => {
  const legacy = await track(legacyWith((req) => req.socket.destroy()));
  const candidate = await track(startBackend((req, res) => (req.resume(), answer(res))));
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [route] })));
  const http = await track(client());
  for (let i = 0; i < 3; i++) expect((await http.get(`${proxy.url}/x`)).status).toBe(200);
  await waitFor(async () => (await parityOf(proxy.admin)).errors.reset === 3, 5000, 'three noise copies reset');
  expect(await parityOf(proxy.admin)).toMatchObject({ compared: 3, noise: [] });
  expect(proxy.app.stats.routeSnapshot('api').legacy.cumulative.requests).toBe(3);
});

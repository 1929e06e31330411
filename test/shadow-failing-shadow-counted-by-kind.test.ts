// A shadow that is refused or resets never fails the client; its failures are counted by kind in
// the parity figures, and never in the candidate's series.
import { expect, it } from 'vitest';
import { admin, client, deadPort, named, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const parityOf = async (adminUrl: string) => (await admin(adminUrl, 'GET', '/api/v1/parity')).body.routes.api;

it('answers the client from legacy and counts a refused shadow as errors.refused', async () => {
  const legacy = await track(named('legacy'));
  const proxy = await track(startProxy(testConfig([legacy.url], [await deadPort()], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100 } }] })));
  const http = await track(client());
  for (let i = 0; i < 3; i++) expect(await http.get(`${proxy.url}/x`)).toMatchObject({ status: 200, body: 'legacy' });
  await waitFor(async () => (await parityOf(proxy.admin)).errors.refused === 3, 5000, 'three refused copies counted');
  expect(await parityOf(proxy.admin)).toMatchObject({ compared: 0, errors: { refused: 3, reset: 0, timeout: 0, other: 0 } });
  expect(proxy.app.stats.routeSnapshot('api').candidate.cumulative.requests).toBe(0);
});

it('answers the client from legacy and counts a shadow that resets as errors.reset', async () => {
  const legacy = await track(named('legacy'));
  const candidate = await track(startBackend((req) => req.socket.destroy()));
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100 } }] })));
  const http = await track(client());
  for (let i = 0; i < 3; i++) expect(await http.get(`${proxy.url}/x`)).toMatchObject({ status: 200, body: 'legacy' });
  await waitFor(async () => (await parityOf(proxy.admin)).errors.reset === 3, 5000, 'three reset copies counted');
  expect(await parityOf(proxy.admin)).toMatchObject({ compared: 0, errors: { refused: 0, reset: 3 } });
  expect(proxy.app.stats.routeSnapshot('api').candidate.cumulative.requests).toBe(0);
});

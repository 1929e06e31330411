// Shadow sampling is deterministic: an exact share of unkeyed requests (smooth interleave, never
// at random), and on a sticky route by the key: a user is always or never shadowed.
import { expect, it } from 'vitest';
import { bucketOf } from '../src/split/decide.js';
import { admin, client, named, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('shadows every request of the sampled users and none of the others', async () => {
  const seen: string[] = [];
  const legacy = await track(named('legacy'));
  const candidate = await track(
    startBackend((req, res) => {
      req.resume();
      seen.push(String(req.headers['x-user-id']));
      res.setHeader('content-type', 'text/plain');
      res.end('legacy');
    }),
  );
  const proxy = await track(
    startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, sticky: { header: 'x-user-id' }, shadow: { percent: 50 } }] })),
  );
  const http = await track(client());
  const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
  for (let round = 0; round < 3; round++) for (const u of users) expect((await http.get(`${proxy.url}/x`, { 'x-user-id': u })).status).toBe(200);
  const sampled = users.filter((u) => bucketOf('api#shadow', u) < 5000);
  expect(sampled.length).toBeGreaterThan(0);
  expect(sampled.length).toBeLessThan(users.length);
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api.compared === 3 * sampled.length, 5000, 'the sampled users compared');
  expect([...new Set(seen)].sort()).toEqual([...sampled].sort());
  expect(seen.length).toBe(3 * sampled.length);
});

it('shadows exactly 10 of 100 unkeyed requests at 10 %', async () => {
  const legacy = await track(named('legacy'));
  const candidate = await track(named('legacy'));
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 10 } }] })));
  const http = await track(client());
  for (let i = 0; i < 100; i++) expect((await http.get(`${proxy.url}/x`)).status).toBe(200);
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api.compared === 10, 5000, 'ten compared');
  expect(candidate.hits).toBe(10);
  expect(legacy.hits).toBe(100);
  expect((await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api).toMatchObject({ compared: 10, matched: 10 });
});

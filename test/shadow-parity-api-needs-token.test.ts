// The parity endpoints sit behind the admin token like the rest of the API.
import { expect, it } from 'vitest';
import { admin, named, startProxy, testConfig, track } from './helpers/servers.js';

it('answers 401 without the token, and the figures and the reset with it', async () => {
  const legacy = await track(named('legacy'));
  const candidate = await track(named('candidate'));
  const proxy = await track(
    startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100 } }] }), { adminToken: 'secret-token-1' }),
  );
  expect((await admin(proxy.admin, 'GET', '/api/v1/parity')).status).toBe(401);
  expect((await admin(proxy.admin, 'POST', '/api/v1/parity/reset')).status).toBe(401);
  const ok = await admin(proxy.admin, 'GET', '/api/v1/parity', undefined, 'secret-token-1');
  expect(ok.status).toBe(200);
  expect(ok.body.routes.api).toMatchObject({ compared: 0, matched: 0, mismatched: 0, skipped: 0, dropped: 0, differences: [], noise: [] });
  expect((await admin(proxy.admin, 'POST', '/api/v1/parity/reset', undefined, 'secret-token-1')).status).toBe(200);
});

// RFC 9110 section 11.1: the auth scheme is case-insensitive, so "bearer", "BEARER" and
// "Bearer" with the right token are all accepted, and a wrong token still is not.
import { expect, it } from 'vitest';
import { named, startProxy, testConfig, track } from './helpers/servers.js';

const TOKEN = 's3cret-token';

it('accepts the admin token whatever the case of the Bearer scheme', async () => {
  const backend = await track(named('b'));
  const p = await track(startProxy(testConfig([backend.url], [backend.url]), { adminToken: TOKEN }));
  const status = async (authorization: string) =>
    (await fetch(p.admin + '/api/v1/status', { headers: { authorization } }).then(async (r) => (await r.text(), r))).status;
  expect(await status(`bearer ${TOKEN}`)).toBe(200);
  expect(await status(`BEARER ${TOKEN}`)).toBe(200);
  expect(await status(`Bearer ${TOKEN}`)).toBe(200);
  expect(await status(`bearer wrong`)).toBe(401);
  expect(await status(`Basic ${TOKEN}`)).toBe(401);
  expect(await status(`bearer${TOKEN}`)).toBe(401);
});

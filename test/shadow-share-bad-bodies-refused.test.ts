// PUT /api/v1/shadow refuses what it cannot apply, with a JSON error that names what to send:
// bad bodies (400 bad_request / invalid_json), an unknown route (404 unknown_route), a route
// without a shadow (409 no_shadow), the read-only token (403 read_only), no token (401).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { admin, startTwoBackendProxy, track } from './helpers/servers.js';

const TOKEN = 'shadow-admin-token';
const READER = 'shadow-read-only-token';

it('answers each bad request with the code from the error table and changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-shadow-put-'));
  writeFileSync(join(dir, 'reader.token'), `${READER}\n`);
  const routes = [
    { name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 0, shadow: { percent: 5 } },
    { name: 'web', match: { pathPrefix: '/' }, candidatePercent: 0 },
  ];
  const env = await track(startTwoBackendProxy(routes, { adminToken: TOKEN }, { admin: { host: '127.0.0.1', port: 0, readOnlyTokenFile: join(dir, 'reader.token') } }));
  const put = (body: unknown, token = TOKEN) => admin(env.proxy.admin, 'PUT', '/api/v1/shadow', body, token);

  const missing = await put({ route: 'api' });
  expect(missing.status).toBe(400);
  expect(missing.body.error).toMatchObject({ code: 'bad_request', field: 'percent' });
  expect(missing.body.error.message).toContain('{"route": "name of a route with a shadow", "percent": 0..100');
  for (const percent of [150, -1, 'ten']) {
    const r = await put({ route: 'api', percent });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'bad_request', field: 'percent', message: 'percent must be a number from 0 to 100' });
  }
  expect((await put({ route: 'api', percent: 10, extra: 1 })).body.error).toMatchObject({ code: 'bad_request', field: 'extra' });
  expect((await put('{"route": "api", ')).body.error.code).toBe('invalid_json');

  const unknown = await put({ route: 'nope', percent: 10 });
  expect(unknown.status).toBe(404);
  expect(unknown.body.error).toMatchObject({ code: 'unknown_route' });
  expect(unknown.body.error.message).toContain('routes are: api, web');
  const noShadow = await put({ route: 'web', percent: 10 });
  expect(noShadow.status).toBe(409);
  expect(noShadow.body.error).toMatchObject({ code: 'no_shadow' });
  expect(noShadow.body.error.message).toContain('routes with one: api');

  const reader = await put({ route: 'api', percent: 10 }, READER);
  expect(reader.status).toBe(403);
  expect(reader.body.error.code).toBe('read_only');
  expect((await admin(env.proxy.admin, 'PUT', '/api/v1/shadow', { route: 'api', percent: 10 })).status).toBe(401);

  // Nothing changed: the share is the config's, and the history has no shadow change.
  expect((await admin(env.proxy.admin, 'GET', '/api/v1/shadow', undefined, READER)).body).toEqual({ routes: { api: 5 } });
  expect(JSON.stringify((await admin(env.proxy.admin, 'GET', '/api/v1/history', undefined, TOKEN)).body)).not.toContain('"kind":"shadow"');
});

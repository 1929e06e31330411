// With the default methods (GET, HEAD), a POST on a shadowed route goes to the primary only.
import { expect, it } from 'vitest';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { request } from 'undici';

it('mirrors GET but never a POST when methods is left at its default', async () => {
  const bodies: string[] = [];
  const echo = async () =>
    startBackend((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(`${req.method} ${body}`);
        res.end(`${req.method}:${body.length}`);
      });
    });
  const legacy = await track(echo());
  const candidate = await track(echo());
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100 } }] })));
  const http = await track(client());
  const post = await request(`${proxy.url}/orders`, { method: 'POST', body: 'x'.repeat(100), dispatcher: http.agent });
  expect(post.statusCode).toBe(200);
  expect(await post.body.text()).toBe('POST:100');
  expect(legacy.hits).toBe(1);
  const get = await http.get(`${proxy.url}/orders`);
  expect(get.body).toBe('GET:0');
  // The GET is copied (and compared); the POST never reached the candidate.
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api.compared === 1, 5000, 'the GET compared');
  expect(candidate.hits).toBe(1);
  const p = (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api;
  expect(p).toMatchObject({ compared: 1, matched: 1, mismatched: 0, skipped: 0, dropped: 0 });
});

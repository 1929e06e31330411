// A request whose connection is refused never reached the node: an idempotent GET is tried once
// more on the other node and succeeds; a POST with a body is not retried (502), since only
// idempotent requests are repeated (RFC 9110 section 9.2.2).
import { request } from 'undici';
import { expect, it } from 'vitest';
import { client, deadPort, named, startProxy, testConfig, track } from './helpers/servers.js';

it('retries a refused GET once on the other node, and not a POST with a body', async () => {
  const dead = await deadPort();
  const up = await track(named('up'));
  // Round robin starts with the first node: the dead one.
  const proxy = await track(startProxy(testConfig([dead, up.url], [up.url])));
  const http = await track(Promise.resolve(client()));

  const get = await http.get(`${proxy.url}/x`);
  expect(get.status).toBe(200);
  expect(get.body).toBe('up');
  expect(up.hits).toBe(1);

  // The retry moved the cursor past the node that served; the next request goes to the dead one.
  const post = await request(`${proxy.url}/x`, { method: 'POST', body: '{"order":1}', headers: { 'content-type': 'application/json' }, dispatcher: http.agent });
  const body = JSON.parse(await post.body.text());
  expect(post.statusCode).toBe(502);
  expect(body.error.code).toBe('upstream_refused');
  expect(body.error.message).toBe('the backend refused the connection'); // one node tried, not "every node"
  expect(up.hits).toBe(1);

  const deadNode = proxy.app.table.clusters.legacy.health().find((n) => n.origin === dead)!;
  expect(deadNode).toMatchObject({ consecutiveGatewayFailure: 2, state: 'serving' }); // below the threshold of 3
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect([w.requests, w.errors.refused]).toEqual([2, 1]); // the retried GET counts once, as a success
});

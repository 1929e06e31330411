// A candidate that computes one total differently: parity counts the mismatch and names `/total`;
// identical answers count as matched. The shadow copies never enter the guard's series.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { toolAvailable } from './helpers/tools.js';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const shop = (wrongTotal: boolean) =>
  startBackend((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    if (req.url === '/cart') res.end(JSON.stringify({ items: [{ sku: 'a', price: 4 }, { sku: 'b', price: 6 }], total: wrongTotal ? 11 : 10 }));
    else res.end(JSON.stringify({ status: 'ok', n: 1 }));
  });

it('counts a wrong /total as a mismatch naming the path, and equal answers as matched', async () => {
  const legacy = await track(shop(false));
  const candidate = await track(shop(true));
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'shop', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100 } }] })));
  const http = await track(client());

  const cart = await http.get(`${proxy.url}/cart`);
  expect(JSON.parse(cart.body).total).toBe(10); // the client always gets the primary's (legacy's) answer
  const health = await http.get(`${proxy.url}/health`);
  expect(health.status).toBe(200);

  const parity = async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.shop;
  await waitFor(async () => (await parity()).compared === 2, 5000, 'both requests compared');
  const p = await parity();
  expect(p).toMatchObject({ compared: 2, matched: 1, mismatched: 1, skipped: 0, dropped: 0 });
  expect(p.differences).toEqual([{ path: '/total', count: 1 }]);
  expect(p.endpoints['GET /cart']).toMatchObject({ compared: 1, mismatched: 1 });
  expect(p.samples[0]).toMatchObject({ request: 'GET /cart', primary: { backend: 'legacy', status: 200 }, shadow: { backend: 'candidate', status: 200 } });
  expect(p.samples[0].differences).toEqual([{ path: '/total', primary: '10', shadow: '11' }]);

  const scrape = await (await fetch(`${proxy.admin}/metrics`)).text();
  expect(scrape).toContain('cutover_shadow_requests_total{route="shop",outcome="mismatched"} 1');
  expect(scrape).toContain('cutover_shadow_requests_total{route="shop",outcome="matched"} 1');
  if (toolAvailable('promtool')) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }

  // Split 0 %, shadow 100 %: the candidate answered two copies, and its series saw none of them.
  expect(candidate.hits).toBe(2);
  const stats = proxy.app.stats.routeSnapshot('shop');
  expect(stats.candidate.cumulative.requests).toBe(0);
  expect(stats.legacy.cumulative.requests).toBe(2);

  // Reset: back to zero.
  expect((await admin(proxy.admin, 'POST', '/api/v1/parity/reset')).status).toBe(200);
  expect(await parity()).toMatchObject({ compared: 0, matched: 0, mismatched: 0, differences: [] });
});

// The shadow's metrics in the scrape: mismatches by endpoint (path templates, not raw paths) and
// the paired latency as a histogram per route and backend, read from the parity figures; the
// whole scrape stays promtool-clean.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { toolAvailable } from './helpers/tools.js';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const shop = (wrongOn: string | undefined, delayMs: number) =>
  startBackend((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    setTimeout(() => res.end(JSON.stringify({ total: req.url === wrongOn ? 11 : 10 })), delayMs);
  });

/** The value of one sample line of the scrape. */
const valueOf = (scrape: string, line: string) => Number(scrape.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ').at(-1));

it('counts mismatches per endpoint and the paired latency per backend, promtool-clean', async () => {
  const legacy = await track(shop(undefined, 0));
  const candidate = await track(shop('/orders/2', 100)); // slower on every request, wrong on one
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'shop', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100 } }] })));
  const http = await track(client());
  for (const n of [1, 2, 3]) expect((await http.get(`${proxy.url}/orders/${n}`)).status).toBe(200);
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.shop.compared === 3, 5000, 'three compared');

  const scrape = await (await fetch(`${proxy.admin}/metrics`)).text();
  expect(valueOf(scrape, 'cutover_shadow_mismatches_total{route="shop",endpoint="GET /orders/:id"}')).toBe(1);
  expect(valueOf(scrape, 'cutover_shadow_requests_total{route="shop",outcome="matched"}')).toBe(2);
  // The candidate was the slower one on all three pairs, by about its 100 ms delay.
  expect(valueOf(scrape, 'cutover_shadow_latency_difference_seconds_count{route="shop",backend="candidate"}')).toBe(3);
  expect(valueOf(scrape, 'cutover_shadow_latency_difference_seconds_bucket{route="shop",backend="candidate",le="0.025"}')).toBe(0);
  expect(valueOf(scrape, 'cutover_shadow_latency_difference_seconds_bucket{route="shop",backend="candidate",le="+Inf"}')).toBe(3);
  expect(valueOf(scrape, 'cutover_shadow_latency_difference_seconds_count{route="shop",backend="legacy"}')).toBe(0);
  expect(valueOf(scrape, 'cutover_shadow_latency_difference_seconds_sum{route="shop",backend="candidate"}')).toBeGreaterThanOrEqual(0.15);
  if (toolAvailable('promtool')) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }
});

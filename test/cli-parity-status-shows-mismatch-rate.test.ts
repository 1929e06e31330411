// `cutover parity status` prints a table per route with a shadow (share, compared, mismatch rate,
// top differing paths, noise learned); `cutover status` adds each shadowing route's mismatch rate.
import { expect, it } from 'vitest';
import { runCli } from './helpers/process.js';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const shop = (wrongTotal: boolean) =>
  startBackend((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ total: wrongTotal && req.url === '/cart/2' ? 11 : 10, at: Math.random() }));
  });

it('prints the parity table and the mismatch rate in the status', async () => {
  const legacy = await track(shop(false));
  const candidate = await track(shop(true));
  const routes = [
    { name: 'shop', match: { pathPrefix: '/cart' }, candidatePercent: 0, shadow: { percent: 100, noise: { percent: 100 } } },
    { name: 'rest', match: { pathPrefix: '/' }, candidatePercent: 0 },
  ];
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes })));
  const http = await track(client());
  const parity = async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.shop;
  // Until /at is learned as noise (the first comparisons may count it as a difference).
  await waitFor(async () => ((await http.get(`${proxy.url}/cart/1`)).status === 200 && (await parity()).noise.length > 0), 10000, '/at learned');
  await http.get(`${proxy.url}/cart/2`);
  await waitFor(async () => proxy.app.parity.route('shop').open.size === 0 && (await parity()).samples.some((s: { request: string }) => s.request === 'GET /cart/2'), 5000, '/cart/2 compared');
  const p = await parity();
  const rate = `${((100 * p.mismatched) / p.compared).toFixed(2)}%`;

  const table = await runCli(['parity', 'status', '--admin', proxy.admin]);
  expect(table.code).toBe(0);
  const [head, row, ...rest] = table.stdout.trimEnd().split('\n');
  expect(head.split(/\s{2,}/)).toEqual(['route', 'shadow%', 'compared', 'mismatched', 'mismatch rate', 'errors', 'top differing paths', 'noise']);
  expect(rest).toEqual([]); // only the route with a shadow
  expect(row.split(/\s{2,}/).slice(0, 6)).toEqual(['shop', '100', String(p.compared), String(p.mismatched), rate, '0']);
  expect(row).toContain('/total (1)');
  expect(row).toMatch(/\/at \(\d+\)$/);

  const status = await runCli(['status', '--admin', proxy.admin]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`parity shop: mismatch rate ${rate} (${p.mismatched} of ${p.compared} compared); differs at `);
  expect(status.stdout).not.toContain('parity rest');

  const json = await runCli(['parity', 'status', '--json', '--admin', proxy.admin]);
  expect(JSON.parse(json.stdout).routes.shop.compared).toBe(p.compared);
});

// Noise learning: a legacy that stamps each answer with the time and a random request id. The
// noise copies (a second request to legacy) show those two fields differ between two legacy
// answers, so they are learned as noise and listed with their counts; from then on a candidate
// answering with its own timestamp and id matches (from the first comparison on: a pair waits for
// its noise copy), and a real wrong field still mismatches.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const orders = (wrongTotalOn: string | undefined) =>
  startBackend((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: req.url, total: req.url === wrongTotalOn ? 11 : 10, at: Date.now(), requestId: randomUUID() }));
  });

it('learns the timestamp and request id as noise, then counts only a real difference', async () => {
  const legacy = await track(orders(undefined));
  const candidate = await track(orders('/orders/9'));
  const route = { name: 'shop', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100, noise: { percent: 100 } } };
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [route] })));
  const http = await track(client());
  const parity = async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.shop;
  const noisePaths = async () => ((await parity()).noise as Array<{ path: string }>).map((n) => n.path).sort();

  // Learning: two legacy answers to one request differ in /at (unless in the same ms) and /requestId.
  let sent = 0;
  await waitFor(
    async () => {
      expect((await http.get(`${proxy.url}/orders/${++sent}`)).status).toBe(200);
      return (await noisePaths()).join() === '/at,/requestId';
    },
    10000,
    'the timestamp and the request id learned as noise',
  );
  await waitFor(async () => (await parity()).compared === sent && !proxy.app.parity.route('shop').open.size, 5000, 'every copy over');
  const before = await parity();
  expect(before.endpoints['GET /orders/:id'].noise).toMatchObject({ '/requestId': sent });
  // A pair is compared only after its noise copy taught the table: even the very first
  // comparison left the request id out (the timestamp may agree within a millisecond, and then
  // is learned a little later).
  expect((before.differences as Array<{ path: string }>).map((d) => d.path)).not.toContain('/requestId');

  // From now on: different timestamps and ids are matches; the wrong total on /orders/9 is not.
  for (const n of [5, 6, 7, 9]) expect(JSON.parse((await http.get(`${proxy.url}/orders/${n}`)).body).total).toBe(10);
  await waitFor(async () => (await parity()).compared === sent + 4, 5000, 'four more compared');
  const after = await parity();
  expect(after.matched - before.matched).toBe(3);
  expect(after.mismatched - before.mismatched).toBe(1);
  expect(after.samples.at(-1)).toMatchObject({ request: 'GET /orders/9', differences: [{ path: '/total', primary: '10', shadow: '11' }] });
  expect(after.noise.find((n: { path: string }) => n.path === '/requestId').count).toBe(sent + 4);
  // Each sampled request reached legacy twice (the client's answer and the noise copy).
  expect(legacy.hits).toBe(2 * (sent + 4));
});

it('compares the whole legacy answer when legacy is the copy and also teaches the noise table', async () => {
  // The candidate serves the client (100 %); legacy answers the shadow copy and the noise copy.
  // The copy's body feeds both the noise table and the comparison: neither may see it emptied.
  const legacy = await track(orders(undefined));
  const candidate = await track(orders('/orders/9'));
  const route = { name: 'shop', match: { pathPrefix: '/' }, candidatePercent: 100, shadow: { percent: 100, noise: { percent: 100 } } };
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes: [route] })));
  const http = await track(client());
  const parity = async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.shop;
  for (const n of [1, 2, 3, 9]) expect((await http.get(`${proxy.url}/orders/${n}`)).status).toBe(200);
  await waitFor(async () => (await parity()).compared === 4 && !proxy.app.parity.route('shop').open.size, 5000, 'four compared');
  const p = await parity();
  const paths = (p.differences as Array<{ path: string }>).map((d) => d.path);
  expect(paths).not.toContain('body');
  expect(paths).toContain('/total');
  expect(p.samples.at(-1)).toMatchObject({ request: 'GET /orders/9', differences: [{ path: '/total', primary: '11', shadow: '10' }] });
});

// The calls our users' migration runbooks already make, in the order of a cutover and of a rollback.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, startTwoBackendProxy, type TestProxy, type TwoBackendProxy } from './helpers/servers.js';

let f: TwoBackendProxy;
let proxy: TestProxy;
let http: TwoBackendProxy['http'];

beforeAll(async () => {
  f = await startTwoBackendProxy([
    { name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 10 },
    { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 },
  ]);
  ({ proxy, http } = f);
});
afterAll(() => f.close());

const served = async (path: string) => (await http.get(proxy.url + path)).body;

it('cutover: maintenance on, drain, candidate 100, maintenance off', async () => {
  expect((await admin(proxy.admin, 'POST', '/api/maintenance-mode/enable')).status).toBe(200);
  expect((await http.get(`${proxy.url}/api/x`)).status).toBe(503);
  const drain = await admin(proxy.admin, 'POST', '/api/v1/drain', { timeoutSeconds: 5 });
  expect(drain.body.drained).toBe(true);
  const set = await admin(proxy.admin, 'POST', '/api/traffic/candidate-percentage/100');
  expect(set.status).toBe(200);
  expect(set.body.routes).toEqual({ api: 100, default: 100 });
  expect((await admin(proxy.admin, 'POST', '/api/maintenance-mode/disable')).status).toBe(200);
  for (const p of ['/api/a', '/b', '/api/c']) expect(await served(p)).toBe('candidate');
});

it('rollback: maintenance on, legacy 100, maintenance off', async () => {
  await admin(proxy.admin, 'POST', '/api/maintenance-mode/enable');
  const set = await admin(proxy.admin, 'POST', '/api/traffic/legacy-percentage/100');
  expect(set.body.routes).toEqual({ api: 0, default: 0 });
  await admin(proxy.admin, 'POST', '/api/maintenance-mode/disable');
  for (const p of ['/api/a', '/b']) expect(await served(p)).toBe('legacy');
});

it('takes any percentage: legacy 75 means candidate 25', async () => {
  const r = await admin(proxy.admin, 'POST', '/api/traffic/legacy-percentage/75');
  expect(r.body.routes).toEqual({ api: 25, default: 25 });
  const c = await admin(proxy.admin, 'POST', '/api/traffic/candidate-percentage/0.5');
  expect(c.body.routes).toEqual({ api: 0.5, default: 0.5 });
  const history = (await admin(proxy.admin, 'GET', '/api/v1/history')).body.history;
  expect(history.filter((h: any) => h.kind === 'maintenance').map((h: any) => h.to)).toEqual([false, true, false, true]);
});

it('legacy 99.99 stores and reports candidate 0.01, not 0.010000000000005116', async () => {
  const r = await admin(proxy.admin, 'POST', '/api/traffic/legacy-percentage/99.99');
  expect(r.status).toBe(200);
  expect(r.body.routes).toEqual({ api: 0.01, default: 0.01 });
  const split = r.body.changes.filter((c: any) => c.kind === 'split').map((c: any) => c.to);
  expect(split).toEqual([0.01, 0.01]);
  const history = (await admin(proxy.admin, 'GET', '/api/v1/history')).body.history;
  expect(history[0].to).toBe(0.01);
});

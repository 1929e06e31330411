// Maintenance answers 503 with Retry-After and sends nothing upstream; drain waits for a slow request.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, client, startBackend, startProxy, testConfig, waitFor, type TestBackend, type TestProxy } from './helpers/servers.js';

let backend: TestBackend;
let proxy: TestProxy;
const http = client();

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    const delay = req.url === '/slow' ? 600 : 0;
    setTimeout(() => res.end('done'), delay);
  });
  proxy = await startProxy(testConfig([backend.url], [backend.url]));
});
afterAll(async () => {
  await http.close();
  await proxy.close();
  await backend.close();
});

it('maintenance really 503s the data plane and reaches no upstream', async () => {
  const on = await admin(proxy.admin, 'POST', '/api/v1/maintenance', { enabled: true, retryAfterSeconds: 120, message: 'Migrating, back soon' });
  expect(on.status).toBe(200);
  expect(on.body.maintenance).toEqual({ enabled: true, retryAfterSeconds: 120, message: 'Migrating, back soon' });
  const hitsBefore = backend.hits;
  for (let i = 0; i < 10; i++) {
    const r = await http.get(`${proxy.url}/any/${i}`);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('120');
    expect(JSON.parse(r.body).error).toEqual({ code: 'maintenance', message: 'Migrating, back soon' });
  }
  expect(backend.hits).toBe(hitsBefore);
  const metrics = await admin(proxy.admin, 'GET', '/metrics');
  expect(metrics.body).toMatch(/^cutover_maintenance_enabled 1$/m);
  await admin(proxy.admin, 'POST', '/api/v1/maintenance', { enabled: false });
  expect((await http.get(`${proxy.url}/x`)).status).toBe(200);
  expect(backend.hits).toBe(hitsBefore + 1);
});

it('drain waits for a slow request in flight and reports it', async () => {
  const slow = http.get(`${proxy.url}/slow`);
  await waitFor(() => proxy.app.proxy.inFlight === 1);
  const started = Date.now();
  const r = await admin(proxy.admin, 'POST', '/api/v1/drain', { timeoutSeconds: 10 });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ drained: true, inFlightAtStart: 1, finished: 1, inFlight: 0, timedOut: false });
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  expect((await slow).body).toBe('done');
});

it('drain reports what is still in flight when the timeout comes first', async () => {
  const slow = http.get(`${proxy.url}/slow`);
  await waitFor(() => proxy.app.proxy.inFlight === 1);
  const r = await admin(proxy.admin, 'POST', '/api/v1/drain', { timeoutSeconds: 0.1 });
  expect(r.body).toMatchObject({ drained: false, inFlight: 1, timedOut: true });
  await slow;
  expect((await admin(proxy.admin, 'POST', '/api/v1/drain', { timeoutSeconds: 'soon' })).status).toBe(400);
});

// Every admin endpoint, with good and bad input, against a real proxy and real backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, startTwoBackendProxy, type TestProxy, type TwoBackendProxy } from './helpers/servers.js';

let f: TwoBackendProxy;
let proxy: TestProxy;
let http: TwoBackendProxy['http'];

beforeAll(async () => {
  f = await startTwoBackendProxy([
    { name: 'users', match: { pathPrefix: '/users' }, candidatePercent: 100 },
    { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 5 },
  ]);
  ({ proxy, http } = f);
});
afterAll(() => f.close());

describe('admin API', () => {
  it('GET /healthz and /readyz', async () => {
    expect(await admin(proxy.admin, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await admin(proxy.admin, 'GET', '/readyz')).toMatchObject({ status: 200, body: { ready: true } });
  });

  it('GET /api/v1/status shows percentages and per-backend snapshots', async () => {
    await http.get(`${proxy.url}/users/1`);
    const { status, body } = await admin(proxy.admin, 'GET', '/api/v1/status');
    expect(status).toBe(200);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.maintenance.enabled).toBe(false);
    expect(body.inFlight).toBe(0);
    expect(typeof body.uptimeSeconds).toBe('number');
    const users = body.routes.find((r: any) => r.name === 'users');
    expect(users.candidatePercent).toBe(100);
    expect(users.backends.candidate.window.requests).toBeGreaterThanOrEqual(1);
    expect(users.backends.candidate.cumulative.latencyMs.p99).toBeGreaterThan(0);
    expect(body.routes.map((r: any) => r.name)).toEqual(['users', 'default']);
  });

  it('PUT /api/v1/split changes one route, or all routes, and the next request follows', async () => {
    let r = await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 100, route: 'default', reason: 'test' });
    expect(r.status).toBe(200);
    expect(r.body.routes).toEqual({ users: 100, default: 100 });
    expect((await http.get(`${proxy.url}/x`)).body).toBe('candidate');
    r = await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 0 });
    expect(r.body.routes).toEqual({ users: 0, default: 0 });
    expect((await http.get(`${proxy.url}/users/2`)).body).toBe('legacy');
    r = await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 12.5, route: 'users' });
    expect(r.body.routes.users).toBe(12.5);
  });

  it.each([
    [{ candidatePercent: 150 }, 'candidatePercent must be a number from 0 to 100'],
    [{ candidatePercent: -1 }, 'candidatePercent must be a number from 0 to 100'],
    [{ candidatePercent: 'abc' }, 'candidatePercent must be a number from 0 to 100'],
    [{}, 'candidatePercent is required'],
    [{ candidatePercent: 5, colour: 'red' }, 'unknown field "colour"'],
    [undefined, 'candidatePercent is required'],
    ['[1, 2]', 'must be a JSON object'],
    ['{not json', 'not valid JSON'],
  ])('PUT /api/v1/split with %j is a 400 that says what to send', async (body, message) => {
    const r = await admin(proxy.admin, 'PUT', '/api/v1/split', body);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(message);
    expect(r.body.error.code).toBeTruthy();
  });

  it('an unknown route is a 404 naming the routes there are', async () => {
    const r = await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 5, route: 'nope' });
    expect(r.status).toBe(404);
    expect(r.body.error).toEqual({ code: 'unknown_route', message: 'no route named "nope"; routes are: users, default' });
  });

  it('an unknown endpoint is a JSON 404', async () => {
    const r = await admin(proxy.admin, 'GET', '/api/v2/whatever');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });

  it('POST /api/v1/promote and /api/v1/rollback', async () => {
    let r = await admin(proxy.admin, 'POST', '/api/v1/promote', {});
    expect(r.body.routes).toEqual({ users: 100, default: 100 });
    r = await admin(proxy.admin, 'POST', '/api/v1/rollback', {});
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('reason is required');
    r = await admin(proxy.admin, 'POST', '/api/v1/rollback', { reason: 'p99 too high' });
    expect(r.body.routes).toEqual({ users: 0, default: 0 });
    expect((await http.get(`${proxy.url}/users/3`)).body).toBe('legacy');
  });

  it('GET /api/v1/history lists every change, newest first, with source, from, to and reason', async () => {
    await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 7, route: 'default', reason: 'ramp' });
    const r = await admin(proxy.admin, 'GET', '/api/v1/history');
    expect(r.status).toBe(200);
    const [latest, previous] = r.body.history;
    expect(latest).toMatchObject({ source: 'api', kind: 'split', route: 'default', from: 0, to: 7, reason: 'ramp' });
    expect(Date.parse(latest.time)).toBeGreaterThanOrEqual(Date.parse(previous.time));
    expect(r.body.history.some((c: any) => c.reason === 'p99 too high')).toBe(true);
    const limited = await admin(proxy.admin, 'GET', '/api/v1/history?limit=1');
    expect(limited.body.history).toHaveLength(1);
    expect((await admin(proxy.admin, 'GET', '/api/v1/history?limit=abc')).status).toBe(400);
  });

  it('POST /api/v1/maintenance validates its body', async () => {
    const r = await admin(proxy.admin, 'POST', '/api/v1/maintenance', { enabled: 'yes' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('enabled must be true or false');
    const r2 = await admin(proxy.admin, 'POST', '/api/v1/maintenance', { enabled: false, retryAfterSeconds: -5 });
    expect(r2.status).toBe(400);
    expect(r2.body.error.field).toBe('retryAfterSeconds');
  });

  it('runbook percentage calls reject numbers outside 0..100', async () => {
    for (const p of ['150', '-1', 'abc', '100.5']) {
      const r = await admin(proxy.admin, 'POST', `/api/traffic/candidate-percentage/${p}`);
      expect(r.status, p).toBe(400);
      expect(r.body.error.message).toContain('a number from 0 to 100');
    }
  });
});

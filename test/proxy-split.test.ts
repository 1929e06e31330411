// Split accuracy, stickiness, per-route percentages and the override header, through the real proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoBackendProxy, type TestProxy, type TwoBackendProxy } from './helpers/servers.js';

let f: TwoBackendProxy;
let proxy: TestProxy;
let http: TwoBackendProxy['http'];

beforeAll(async () => {
  f = await startTwoBackendProxy([
    { name: 'users', match: { pathPrefix: '/api/v1/users', methods: ['GET', 'POST'] }, candidatePercent: 100 },
    { name: 'beta', match: { pathPrefix: '/', headers: { 'x-beta': 'yes' } }, candidatePercent: 50 },
    { name: 'sticky', match: { pathPrefix: '/sticky' }, candidatePercent: 10, sticky: { header: 'x-user-id' } },
    { name: 'cookie', match: { pathPrefix: '/cookie' }, candidatePercent: 10, sticky: { cookie: 'session' } },
    { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 },
  ], {}, { overrideHeader: 'x-cutover-backend' });
  ({ proxy, http } = f);
});
afterAll(() => f.close());

async function shareOf(n: number, path: string, headers: (i: number) => Record<string, string> = () => ({})) {
  let onCandidate = 0;
  for (let batch = 0; batch < n; batch += 100) {
    const results = await Promise.all(
      Array.from({ length: Math.min(100, n - batch) }, (_, j) => http.get(proxy.url + path, headers(batch + j))),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body).toBe(r.headers['x-cutover-backend']);
      if (r.body === 'candidate') onCandidate++;
    }
  }
  return onCandidate / n;
}

describe('splitting through the proxy', () => {
  it('sends 9.5..10.5 % of 10,000 unkeyed requests to the candidate at 10 %', async () => {
    const share = await shareOf(10_000, '/orders');
    expect(share).toBeGreaterThanOrEqual(0.095);
    expect(share).toBeLessThanOrEqual(0.105);
    const snap = proxy.app.stats.routeSnapshot('default');
    expect(snap.candidate.cumulative.requests + snap.legacy.cumulative.requests).toBe(10_000);
  }, 30_000);

  it('keeps each sticky header key on one backend and splits keys close to 10 %', async () => {
    const first = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2000; i += 100) {
        const rs = await Promise.all(Array.from({ length: 100 }, (_, j) => http.get(`${proxy.url}/sticky`, { 'x-user-id': `u${i + j}` })));
        rs.forEach((r, j) => {
          const key = `u${i + j}`;
          if (round === 0) first.set(key, r.body);
          else expect(r.body, key).toBe(first.get(key));
        });
      }
    }
    const share = [...first.values()].filter((b) => b === 'candidate').length / first.size;
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
  });

  it('moves only new keys to the candidate when the percentage is raised', async () => {
    const keys = Array.from({ length: 400 }, (_, i) => `ramp-${i}`);
    const onCandidate = async () => {
      const rs = await Promise.all(keys.map((k) => http.get(`${proxy.url}/cookie`, { cookie: `theme=dark; session=${k}` })));
      return new Set(keys.filter((_, i) => rs[i].body === 'candidate'));
    };
    const split = proxy.app.control.split('cookie');
    const at10 = await onCandidate();
    split.percent = 25;
    const at25 = await onCandidate();
    split.percent = 10;
    expect(at25.size).toBeGreaterThan(at10.size);
    for (const k of at10) expect(at25.has(k)).toBe(true);
  });

  it('routes by prefix, method and header, each route with its own percentage', async () => {
    expect((await http.get(`${proxy.url}/api/v1/users/7`)).body).toBe('candidate');
    const del = await import('undici').then(({ request }) => request(`${proxy.url}/api/v1/users/7`, { method: 'DELETE', dispatcher: http.agent }));
    await del.body.text();
    // DELETE is not in the users route's methods, so it falls through to default (10 %, interleaved)
    expect(proxy.app.stats.routeSnapshot('users').candidate.cumulative.requests).toBe(1);
    const beta = await shareOf(200, '/anything', () => ({ 'x-beta': 'yes' }));
    expect(beta).toBe(0.5);
  });

  it('obeys the override header and answers 400 to a bad value', async () => {
    for (let i = 0; i < 20; i++) {
      expect((await http.get(`${proxy.url}/orders`, { 'x-cutover-backend': 'candidate' })).body).toBe('candidate');
    }
    expect((await http.get(`${proxy.url}/api/v1/users`, { 'x-cutover-backend': 'legacy' })).body).toBe('legacy');
    const bad = await http.get(`${proxy.url}/orders`, { 'x-cutover-backend': 'blue' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('bad_override');
    expect(JSON.parse(bad.body).error.message).toMatch(/legacy or candidate/);
  });
});

// Nobody can steer the guard with the override header: it is off unless configured; when on,
// what it forces is counted apart and never judged; it can require a token and trusted clients.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { admin, startBackend, startProxy, testConfig } from './helpers/servers.js';

async function backends() {
  const legacy = await startBackend((_req, res) => res.end('legacy'));
  const candidate = await startBackend((req, res) => {
    res.statusCode = req.url === '/fail' ? 500 : 200;
    res.end('candidate');
  });
  return { legacy, candidate, close: async () => (await legacy.close(), await candidate.close()) };
}

const guard = { enabled: true, intervalMs: 50 };
const routes = [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the override header', () => {
  it('is off by default: the header is ignored and the split decides', async () => {
    const b = await backends();
    const proxy = await startProxy(testConfig([b.legacy.url], [b.candidate.url], { routes, guard }));
    try {
      const bodies = [];
      for (let i = 0; i < 50; i++) bodies.push(await (await fetch(`${proxy.url}/ok`, { headers: { 'x-cutover-backend': 'candidate' } })).text());
      expect(bodies.filter((x) => x === 'candidate')).toHaveLength(5); // 10 %, not 100 %
      expect(proxy.app.stats.routeSnapshot('default').forced.candidate.cumulative.requests).toBe(0);
    } finally {
      await proxy.close();
      await b.close();
    }
  });

  it('when on, forced failures are counted apart and never revert', async () => {
    const b = await backends();
    const proxy = await startProxy(testConfig([b.legacy.url], [b.candidate.url], { routes, guard, overrideHeader: 'x-cutover-backend' }));
    try {
      for (let i = 0; i < 100; i++) {
        const r = await fetch(`${proxy.url}/fail`, { headers: { 'x-cutover-backend': 'candidate' } });
        expect(r.status).toBe(500);
        await r.text();
      }
      await sleep(300);
      expect(proxy.app.control.latch('default')).toBeUndefined();
      const snap = proxy.app.stats.routeSnapshot('default');
      expect(snap.candidate.cumulative.requests).toBe(0);
      expect(snap.forced.candidate.cumulative.status['5xx']).toBe(100);
      const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
      expect(metrics).toContain('cutover_responses_total{route="default",backend="candidate",code_class="5xx",source="upstream",forced="true"} 100');
    } finally {
      await proxy.close();
      await b.close();
    }
  });

  it('can require a token in the value and a trusted client address (403 otherwise)', async () => {
    const b = await backends();
    const dir = mkdtempSync(join(tmpdir(), 'cutover-override-'));
    writeFileSync(join(dir, 'token'), 's3cret\n');
    const config = testConfig([b.legacy.url], [b.candidate.url], {
      routes,
      overrideHeader: 'x-cutover-backend',
      overrideAuth: { tokenFile: join(dir, 'token'), clients: ['127.0.0.0/8'] },
    });
    const proxy = await startProxy(config);
    const other = await startProxy({ ...config, overrideAuth: { clients: ['10.0.0.0/8'] } });
    try {
      const get = async (url: string, value: string) => {
        const r = await fetch(`${url}/ok`, { headers: { 'x-cutover-backend': value } });
        return { status: r.status, body: await r.text() };
      };
      expect(await get(proxy.url, 'candidate; token=s3cret')).toEqual({ status: 200, body: 'candidate' });
      const noToken = await get(proxy.url, 'candidate');
      expect(noToken.status).toBe(403);
      expect(JSON.parse(noToken.body).error.code).toBe('override_refused');
      expect((await get(proxy.url, 'candidate; token=wrong')).status).toBe(403);
      expect((await get(proxy.url, 'blue; token=s3cret')).status).toBe(400);
      // 127.0.0.1 is not in 10.0.0.0/8
      expect((await get(other.url, 'candidate')).status).toBe(403);
      const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
      expect(metrics).toContain('cutover_responses_total{route="default",backend="none",code_class="4xx",source="cutover",forced="false"} 3');
    } finally {
      await other.close();
      await proxy.close();
      await b.close();
    }
  });
});

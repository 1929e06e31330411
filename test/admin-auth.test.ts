// The admin token: required everywhere but the probes (and /metrics unless protected), compared
// in constant time; a non-loopback admin listener without a token refuses to start.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, named, startProxy, testConfig, type TestBackend, type TestProxy } from './helpers/servers.js';
import { runCli, writeConfig } from './helpers/process.js';

let backend: TestBackend;
let open: TestProxy;
let locked: TestProxy;
const TOKEN = 's3cret-token';

beforeAll(async () => {
  backend = await named('b');
  open = await startProxy(testConfig([backend.url], [backend.url]), { adminToken: TOKEN });
  locked = await startProxy(testConfig([backend.url], [backend.url], { admin: { host: '127.0.0.1', port: 0, protectMetrics: true } }), {
    adminToken: TOKEN,
  });
});
afterAll(async () => {
  await open.close();
  await locked.close();
  await backend.close();
});

describe('admin auth', () => {
  it('answers 401 without the token, or with a wrong one', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/status'],
      ['PUT', '/api/v1/split'],
      ['POST', '/api/v1/rollback'],
      ['GET', '/api/v1/history'],
      ['POST', '/api/maintenance-mode/enable'],
    ]) {
      const r = await admin(open.admin, method, path, method === 'GET' ? undefined : { reason: 'x' });
      expect(r.status, path).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await admin(open.admin, 'GET', '/api/v1/status', undefined, 'wrong')).status).toBe(401);
    expect((await admin(open.admin, 'GET', '/api/v1/status', undefined, TOKEN.slice(0, -1))).status).toBe(401);
    expect(open.app.control.maintenance.enabled).toBe(false);
  });

  it('accepts the right token', async () => {
    expect((await admin(open.admin, 'GET', '/api/v1/status', undefined, TOKEN)).status).toBe(200);
    const r = await admin(open.admin, 'PUT', '/api/v1/split', { candidatePercent: 3 }, TOKEN);
    expect(r.status).toBe(200);
  });

  it('leaves the probes open, and /metrics unless protectMetrics', async () => {
    expect((await admin(open.admin, 'GET', '/healthz')).status).toBe(200);
    expect((await admin(open.admin, 'GET', '/readyz')).status).toBe(200);
    expect((await admin(open.admin, 'GET', '/metrics')).status).toBe(200);
    expect((await admin(locked.admin, 'GET', '/metrics')).status).toBe(401);
    expect((await admin(locked.admin, 'GET', '/metrics', undefined, TOKEN)).status).toBe(200);
    expect((await admin(locked.admin, 'GET', '/healthz')).status).toBe(200);
  });

  it('refuses to start an admin listener on a non-loopback address without a token', async () => {
    const cfg = {
      listen: { port: 0 },
      admin: { host: '0.0.0.0', port: 0 },
      backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } },
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    };
    const r = await runCli(['start', '--config', writeConfig(cfg)], { CUTOVER_ADMIN_TOKEN: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/admin\.host is 0\.0\.0\.0, which is not loopback, and no admin token is set/);
  });

  it('reads the token from admin.tokenFile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-token-'));
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const p = await startProxy(testConfig([backend.url], [backend.url], { admin: { host: '127.0.0.1', port: 0, tokenFile: join(dir, 'token') } }));
    try {
      expect((await admin(p.admin, 'GET', '/api/v1/status')).status).toBe(401);
      expect((await admin(p.admin, 'GET', '/api/v1/status', undefined, 'from-file')).status).toBe(200);
    } finally {
      await p.close();
    }
  });
});

describe('admin without a token', () => {
  it('refuses browser requests (Origin) and DNS-rebound ones (a non-loopback Host), but serves curl and the CLI', async () => {
    const p = await startProxy(testConfig([backend.url], [backend.url]));
    try {
      const port = new URL(p.admin).port;
      const fromPage = await fetch(`${p.admin}/api/traffic/candidate-percentage/100`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      });
      expect(fromPage.status).toBe(403);
      expect(((await fromPage.json()) as any).error.code).toBe('forbidden_origin');
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/api/v1/promote', method: 'POST', headers: { host: `evil.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(403);
      expect(p.app.control.percent('default')).toBe(0);
      expect((await admin(p.admin, 'GET', '/api/v1/status')).status).toBe(200);
      expect((await admin(p.admin, 'POST', '/api/traffic/candidate-percentage/5')).status).toBe(200);
      expect((await fetch(`${p.admin}/healthz`, { headers: { origin: 'https://x.example' } })).status).toBe(200);
    } finally {
      await p.close();
    }
  });
});

// Config reload (SIGHUP and the API): a valid file applies to the next request while a long upload
// is in flight; an invalid one changes nothing and the old config keeps serving.
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { stringify } from 'yaml';
import { Agent, request } from 'undici';
import { afterEach, expect, it } from 'vitest';
import { admin, startBackend, waitFor, type TestBackend } from './helpers/servers.js';
import { startProxyProcess, writeConfig, type ProxyProcess } from './helpers/process.js';

let legacy: TestBackend;
let candidate: TestBackend;
let proxy: ProxyProcess | undefined;
afterEach(async () => {
  await proxy?.stop('SIGKILL');
  proxy = undefined;
  await legacy?.close();
  await candidate?.close();
});

async function echoBackend(name: string) {
  return startBackend((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(JSON.stringify({ name, received: n, port: req.socket.remotePort })));
  });
}

function baseConfig(routes: unknown[]) {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [legacy.url] }, candidate: { upstreams: [candidate.url] } },
    routes,
    guard: { enabled: false },
  };
}

/** An upload that sends 10 chunks over ~2 s; resolves with the proxied answer. */
function slowUpload(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
    });
    req.on('error', reject);
    let sent = 0;
    const timer = setInterval(() => {
      req.write(Buffer.alloc(64 * 1024, 1));
      if (++sent === 10) {
        clearInterval(timer);
        req.end();
      }
    }, 200);
  });
}

it('applies a new route and a changed percentage to the next request, mid-upload, over the same keep-alive connection', async () => {
  legacy = await echoBackend('legacy');
  candidate = await echoBackend('candidate');
  const file = writeConfig(baseConfig([{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }]));
  proxy = await startProxyProcess(file);
  const adminUrl = await proxy.adminUrl();
  const agent = new Agent({ connections: 1 });
  const get = async (path: string) => JSON.parse(await (await request(proxy!.url + path, { dispatcher: agent })).body.text());
  const before = await get('/orders');
  expect(before.name).toBe('legacy');
  await admin(adminUrl, 'GET', '/api/v1/status'); // stats of "default" exist now

  const upload = slowUpload(proxy.url);
  await waitFor(() => legacy.hits >= 2, 5000, 'the upload to start');

  writeFileSync(
    file,
    stringify(
      baseConfig([
        { name: 'beta', match: { pathPrefix: '/beta' }, candidatePercent: 100 },
        { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 },
      ]),
    ),
  );
  const r = await admin(adminUrl, 'POST', '/api/v1/config/reload', { reason: 'add beta' });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ applied: true, routesAdded: ['beta'], routesRemoved: [] });
  // The new route takes the file's percentage; the existing route keeps the state file's.
  expect(r.body.routes).toEqual({ default: 0, beta: 100 });
  expect((await get('/beta/1')).name).toBe('candidate');
  expect((await get('/orders')).name).toBe('legacy');

  const applied = await admin(adminUrl, 'POST', '/api/v1/config/reload', { applyPercentages: true });
  expect(applied.body.routes).toEqual({ default: 100, beta: 100 });
  const after = await get('/orders');
  expect(after.name).toBe('candidate');

  // The upload that was in flight through both reloads completes.
  const up = await upload;
  expect(up.status).toBe(200);
  expect(up.body.received).toBe(10 * 64 * 1024);
  const history = (await admin(adminUrl, 'GET', '/api/v1/history')).body.history;
  expect(history.some((h: any) => h.kind === 'config' && h.reason === 'add beta')).toBe(true);
  // Stats of the route that remained were kept across the reloads.
  const status = (await admin(adminUrl, 'GET', '/api/v1/status')).body;
  expect(status.routes.find((x: any) => x.name === 'default').backends.legacy.cumulative.requests).toBeGreaterThanOrEqual(3);
  await agent.close();
}, 20_000);

it('refuses an invalid file with the field path, and the old config keeps serving (API and SIGHUP)', async () => {
  legacy = await echoBackend('legacy');
  candidate = await echoBackend('candidate');
  const good = baseConfig([{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }]);
  const file = writeConfig(good);
  proxy = await startProxyProcess(file);
  const adminUrl = await proxy.adminUrl();
  const bad = structuredClone(good) as any;
  bad.routes[0].candidatePercent = 150;
  writeFileSync(file, stringify(bad));
  const r = await admin(adminUrl, 'POST', '/api/v1/config/reload');
  expect(r.status).toBe(400);
  expect(r.body.error.code).toBe('config_invalid');
  expect(r.body.error.issues).toEqual(['routes[0].candidatePercent: must be <= 100, got 150']);
  proxy.child.kill('SIGHUP');
  await waitFor(() => proxy!.lines.some((l) => l.includes('config reload refused')), 5000, 'the SIGHUP refusal in the log');
  const res = await fetch(`${proxy.url}/x`);
  expect(JSON.parse(await res.text()).name).toBe('candidate');

  // SIGHUP with a valid file applies it.
  writeFileSync(file, stringify(baseConfig([{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }, { name: 'extra', match: { pathPrefix: '/extra' }, candidatePercent: 0 }])));
  proxy.child.kill('SIGHUP');
  await waitFor(() => proxy!.lines.some((l) => l.includes('"config reloaded"')), 5000, 'the SIGHUP reload');
  const status = (await admin(adminUrl, 'GET', '/api/v1/status')).body;
  expect(status.routes.map((x: any) => x.name)).toEqual(['default', 'extra']);
}, 20_000);

// SIGTERM with requests in flight: they finish with their full body, new connections are served
// during the drain period and refused after it, the process exits 0 and the state file is current.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, expect, it } from 'vitest';
import { admin, startBackend, waitFor, type TestBackend } from './helpers/servers.js';
import { startProxyProcess, writeConfig, type ProxyProcess } from './helpers/process.js';

const BODY = 'x'.repeat(256 * 1024);
let backend: TestBackend;
let proxy: ProxyProcess | undefined;
/** Slow responses send their second half when this is called. */
let release: () => void = () => {};

afterEach(async () => {
  await proxy?.stop('SIGKILL');
  proxy = undefined;
  await backend?.close();
});

async function start(grace = 10) {
  const released = new Promise<void>((r) => (release = r));
  backend = await startBackend((req, res) => {
    const slow = req.url?.startsWith('/slow');
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    // A slow response: half the body now, the rest once the test releases it.
    res.write(BODY.slice(0, BODY.length / 2));
    if (slow) void released.then(() => res.end(BODY.slice(BODY.length / 2)));
    else setTimeout(() => res.end(BODY.slice(BODY.length / 2)), 5);
  });
  const file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    guard: { enabled: false },
    shutdownDrainSeconds: 1,
    shutdownGraceSeconds: grace,
  });
  proxy = await startProxyProcess(file);
  const adminUrl = await proxy.adminUrl();
  return { file, adminUrl, stateFile: join(dirname(file), 'cutover-state.json') };
}

it('finishes a slow request on SIGTERM, serves new connections during the drain, refuses them after, exits 0 with the state flushed', async () => {
  const { adminUrl, stateFile } = await start();
  expect((await admin(adminUrl, 'PUT', '/api/v1/split', { candidatePercent: 0.5, reason: 'before shutdown' })).status).toBe(200);
  const agent = new Agent();
  const slow = request(`${proxy!.url}/slow`, { dispatcher: agent }).then(async (r) => ({ status: r.statusCode, body: await r.body.text(), headers: r.headers }));
  await waitFor(() => backend.hits === 1);
  proxy!.child.kill('SIGTERM');
  // readiness turns off at once
  await waitFor(async () => (await admin(adminUrl, 'GET', '/readyz').catch(() => ({ status: 0 }))).status === 503, 2000, 'not ready');
  // during the drain period a new connection is still served, and told to close
  const during = await request(`${proxy!.url}/new`, { dispatcher: agent });
  await during.body.text();
  expect(during.statusCode).toBe(200);
  expect(during.headers.connection).toBe('close');
  // after it, new connections are refused while the slow request is still finishing
  await waitFor(() => proxy!.lines.some((l) => l.includes('no new connections')), 10_000, 'the drain period to end');
  await expect(fetch(`${proxy!.url}/new`)).rejects.toThrow();
  release();
  const r = await slow;
  expect(r.status).toBe(200);
  expect(r.body).toBe(BODY);
  expect(await proxy!.exited).toBe(0);
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  expect(state.routes.default.candidatePercent).toBe(0.5);
  expect(proxy!.lines.some((l) => l.includes('shutdown: done, state flushed'))).toBe(true);
  await agent.close();
}, 20_000);

it('many concurrent keep-alive clients during shutdown: every response that came is complete', async () => {
  await start();
  const agent = new Agent({ connections: 50, pipelining: 1 });
  let running = true;
  const results = { complete: 0, incomplete: 0, failed: 0, closeHeaders: 0 };
  const worker = async () => {
    while (running) {
      try {
        const r = await request(`${proxy!.url}/fast`, { dispatcher: agent });
        const body = await r.body.text();
        if (r.headers.connection === 'close') results.closeHeaders++;
        if (r.statusCode === 200 && body.length === BODY.length) results.complete++;
        else results.incomplete++;
      } catch {
        results.failed++; // refused after the listener closed: no response, nothing half-delivered
        if (!running) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const workers = Promise.all(Array.from({ length: 50 }, worker));
  await waitFor(() => results.complete > 200, 10_000, 'traffic');
  proxy!.child.kill('SIGTERM');
  expect(await proxy!.exited).toBe(0);
  running = false;
  await workers;
  await agent.close();
  expect(results.incomplete).toBe(0);
  expect(results.complete).toBeGreaterThan(200);
}, 30_000);

it('a second signal exits at once', async () => {
  await start(30);
  const agent = new Agent();
  const slow = request(`${proxy!.url}/slow`, { dispatcher: agent })
    .then((r) => r.body.text())
    .catch(() => 'cut');
  await waitFor(() => backend.hits === 1);
  proxy!.child.kill('SIGTERM');
  await waitFor(() => proxy!.lines.some((l) => l.includes('"shutting down"')), 5000, 'the first signal to be handled');
  proxy!.child.kill('SIGINT');
  expect(await proxy!.exited).toBe(1);
  // It did not wait for the slow response: the client got it cut off.
  expect(await slow).toBe('cut');
  await agent.close();
});

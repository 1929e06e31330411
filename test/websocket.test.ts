// A WebSocket upgrade follows the split to the chosen backend and echoes through the proxy.
import type { Duplex } from 'node:stream';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { wsEchoBackend } from './helpers/ws-backend.js';
import { startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

function echo(url: string, headers: Record<string, string> = {}) {
  return new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => ws.send('hello'));
    ws.on('message', (m) => {
      resolve(String(m));
      ws.close();
    });
    ws.on('error', reject);
  });
}

it('proxies a WebSocket echo to the backend the split chose', async () => {
  const legacy = await wsEchoBackend('legacy');
  const candidate = await wsEchoBackend('candidate');
  const proxy = await track(
    startProxy(
      testConfig([legacy.url], [candidate.url], {
        overrideHeader: 'x-cutover-backend',
        routes: [
          { name: 'ws', match: { pathPrefix: '/ws' }, candidatePercent: 100 },
          { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 },
        ],
      }),
    ),
  );
  const wsUrl = proxy.url.replace('http', 'ws');
  expect(await echo(`${wsUrl}/ws`)).toBe('candidate:hello');
  expect(await echo(`${wsUrl}/other`)).toBe('legacy:hello');
  expect(await echo(`${wsUrl}/ws`, { 'x-cutover-backend': 'legacy' })).toBe('legacy:hello');
});

it('answers 504 to an upgrade the backend never answers, counts it once, and keeps no socket', async () => {
  const silent = await startBackend(() => {});
  const held: Duplex[] = [];
  silent.server.on('upgrade', (_req, socket: Duplex) => held.push(socket)); // accepts the upgrade request, never answers it
  await track({
    async close() {
      for (const s of held) s.destroy(); // upgraded sockets are not the server's to close
      await silent.close();
    },
  });
  const proxy = await track(
    startProxy(
      testConfig([silent.url], [silent.url], { backends: { legacy: { upstreams: [silent.url], timeouts: { responseMs: 300 } }, candidate: { upstreams: [silent.url] } } }),
    ),
  );
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/ws`);
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode!);
      req.destroy();
    });
    ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
  });
  expect(status).toBe(504);
  await waitFor(() => proxy.app.proxy.upgradedConnections === 0, 5000, 'the client socket to be released');
  await new Promise((r) => setTimeout(r, 100)); // let the abandoned upstream report its error
  const errors = proxy.app.stats.routeSnapshot('default').legacy.window.errors;
  expect(errors).toMatchObject({ timeout: 1, reset: 0, other: 0 });
});

it('shutdown cuts an open WebSocket when the grace period ends', async () => {
  const b = await wsEchoBackend('legacy');
  const proxy = await track(startProxy(testConfig([b.url], [b.url]))); // closed by the test; closing twice is a no-op
  const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/ws`);
  await new Promise((r) => ws.once('open', r));
  await track({ close: async () => ws.terminate() }); // if the shutdown did not cut it
  const closed = new Promise((r) => ws.once('close', r));
  await proxy.app.close(200);
  await closed;
});

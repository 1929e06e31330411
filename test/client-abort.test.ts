// A client that goes away mid-response aborts the upstream request and counts as a client abort.
import { request as httpRequest } from 'node:http';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('aborts the upstream when the client disconnects mid-response, counted as an abort, not an error', async () => {
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const backend = await track(
    startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'.repeat(1024)), 10);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed();
      });
    }),
  );
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));

  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/stream`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
  await closed; // the upstream saw its connection go: nothing keeps streaming into the void
  await waitFor(() => proxy.app.stats.routeSnapshot('default').legacy.window.clientAborts === 1);
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect(w.requests).toBe(1);
  expect(w.status['2xx']).toBe(1);
  expect(w.errorRate).toBe(0);
  expect(proxy.app.proxy.inFlight).toBe(0);
});

it('aborts a request still waiting for headers', async () => {
  let sawClose!: () => void;
  const closed = new Promise<void>((r) => (sawClose = r));
  const backend = await track(startBackend((req) => req.socket.on('close', () => sawClose())));
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const req = httpRequest(`${proxy.url}/wait`);
  req.on('error', () => {});
  req.end();
  await waitFor(() => backend.hits === 1);
  req.destroy();
  await closed;
  await waitFor(() => proxy.app.stats.routeSnapshot('default').legacy.window.clientAborts === 1);
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect(w.requests).toBe(1);
  expect(w.errorRate).toBe(0);
  expect(proxy.app.proxy.inFlight).toBe(0);
});

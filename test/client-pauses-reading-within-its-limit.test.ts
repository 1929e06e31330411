// How long a client may take to drain a response is the client's own limit
// (listen.clientSendTimeoutMs, like nginx's send_timeout), not the backend's responseMs: a client
// that pauses longer than responseMs still gets the whole body; one that pauses past its own
// limit is cut off, and that counts as the client's abort, never a backend error.
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { rawConnect } from './helpers/raw.js';
import { startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const SIZE = 8 * 1024 * 1024;

async function bigBackend() {
  return track(
    startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': String(SIZE) });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < SIZE) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    }),
  );
}

async function download(proxyPort: number, pauseMs: number): Promise<number> {
  const client = await rawConnect(proxyPort);
  let received = 0;
  const closed = new Promise<void>((r) => client.on('close', () => r()));
  client.on('error', () => {});
  client.pause();
  client.write('GET /big HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n');
  await sleep(pauseMs);
  client.on('data', (d: Buffer) => (received += d.length));
  client.resume();
  await closed;
  return received;
}

it('gives the whole body to a client that pauses longer than responseMs, within its own limit', async () => {
  const backend = await bigBackend();
  const proxy = await track(
    startProxy(
      testConfig([backend.url], [backend.url], {
        listen: { host: '127.0.0.1', port: 0, clientSendTimeoutMs: 5000 },
        backends: { legacy: { upstreams: [backend.url], timeouts: { responseMs: 300 } }, candidate: { upstreams: [backend.url] } },
      }),
    ),
  );
  const received = await download((proxy.app.proxy.server.address() as AddressInfo).port, 1200);
  expect(received).toBeGreaterThan(SIZE); // the head and every body byte
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect(w.errors).toMatchObject({ timeout: 0, reset: 0, other: 0 });
});

it('cuts off a client that pauses past listen.clientSendTimeoutMs, as its own abort', async () => {
  const backend = await bigBackend();
  const proxy = await track(
    startProxy(
      testConfig([backend.url], [backend.url], {
        listen: { host: '127.0.0.1', port: 0, clientSendTimeoutMs: 300 },
        backends: { legacy: { upstreams: [backend.url], timeouts: { responseMs: 30000 } }, candidate: { upstreams: [backend.url] } },
      }),
    ),
  );
  const received = await download((proxy.app.proxy.server.address() as AddressInfo).port, 1500);
  expect(received).toBeLessThan(SIZE);
  await waitFor(() => proxy.app.stats.routeSnapshot('default').legacy.window.clientAborts === 1, 5000, 'a client abort');
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect(w.errors).toMatchObject({ timeout: 0, reset: 0, other: 0 });
});

// 200 GETs pipelined on one client connection reach the backend one at a time, over at most two
// upstream connections, and come back in order: pipelining cannot multiply one client connection into
// hundreds of backend connections.
import type { AddressInfo, Socket } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig } from './helpers/servers.js';
import { rawExchange } from './helpers/raw.js';

it('forwards pipelined requests one at a time', async () => {
  let open = 0;
  let maxOpen = 0;
  let active = 0;
  let maxActive = 0;
  const backend = await startBackend((req, res) => {
    maxActive = Math.max(maxActive, ++active);
    // Answer on the next turn, so that concurrent requests, if any, overlap.
    setImmediate(() => {
      active--;
      res.end(req.url);
    });
  });
  backend.server.on('connection', (s: Socket) => {
    maxOpen = Math.max(maxOpen, ++open);
    s.once('close', () => open--);
  });
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  try {
    const n = 200;
    let requests = '';
    for (let i = 0; i < n; i++) requests += `GET /${i} HTTP/1.1\r\nhost: test\r\n${i === n - 1 ? 'connection: close\r\n' : ''}\r\n`;
    const raw = await rawExchange((proxy.app.proxy.server.address() as AddressInfo).port, requests);
    const bodies = [...raw.matchAll(/HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n(\/\d+)/g)].map((m) => m[1]);
    expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `/${i}`));
    expect(backend.hits).toBe(n);
    expect(maxActive).toBe(1);
    // undici waits one event-loop turn before reusing a connection that just finished a response,
    // so the next request may open a second one; never more (before the fix: about one per request).
    expect(maxOpen).toBeLessThanOrEqual(2);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

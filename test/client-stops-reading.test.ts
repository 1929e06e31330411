// A client that requests a large body and stops reading does not hold the upstream forever: after
// listen.clientSendTimeoutMs without draining, the exchange is aborted, the upstream connection released, and it
// counts as a client abort, not a backend error.
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, waitFor } from './helpers/servers.js';
import { rawConnect } from './helpers/raw.js';

it('releases the upstream of a client that stopped reading a 50 MB body', async () => {
  const size = 50 * 1024 * 1024;
  let upstreamClosed!: (finished: boolean) => void;
  const closed = new Promise<boolean>((r) => (upstreamClosed = r));
  const backend = await startBackend((_req, res) => {
    res.writeHead(200, { 'content-length': String(size) });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => upstreamClosed(res.writableFinished));
    pump();
  });
  const proxy = await startProxy(
    testConfig([backend.url], [backend.url], { listen: { host: '127.0.0.1', port: 0, clientSendTimeoutMs: 300 } }),
  );
  const client = await rawConnect((proxy.app.proxy.server.address() as AddressInfo).port);
  try {
    client.pause(); // reads nothing, ever
    client.write('GET /big HTTP/1.1\r\nhost: test\r\n\r\n');
    expect(await closed).toBe(false); // the backend saw its connection go before the body was sent
    await waitFor(() => proxy.app.stats.routeSnapshot('default').legacy.window.clientAborts === 1, 5000, 'a client abort');
    const w = proxy.app.stats.routeSnapshot('default').legacy.window;
    expect(w.errorRate).toBe(0);
    expect(w.errors).toMatchObject({ timeout: 0, reset: 0, other: 0 });
    expect(proxy.app.proxy.inFlight).toBe(0);
  } finally {
    client.destroy();
    await proxy.close();
    await backend.close();
  }
});

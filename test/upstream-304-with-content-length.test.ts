// A 304 that carries the Content-Length of the representation (RFC 9110 8.6) reaches the client
// as a 304 with its headers, and is not counted as a backend error.
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startProxy, testConfig } from './helpers/servers.js';
import { rawExchange, rawGet, statusOf } from './helpers/raw.js';
import { startRawBackend } from './helpers/raw-backend.js';

it('forwards a 304 with Content-Length', async () => {
  const backend = await startRawBackend('HTTP/1.1 304 Not Modified\r\ncontent-length: 1234\r\netag: "v1"\r\n\r\n');
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  try {
    const raw = await rawExchange((proxy.app.proxy.server.address() as AddressInfo).port, rawGet('/r', 'if-none-match: "v1"\r\n'));
    expect(statusOf(raw)).toBe(304);
    expect(raw).toContain('etag: "v1"');
    expect(raw.endsWith('\r\n\r\n')).toBe(true); // no body
    const w = proxy.app.stats.routeSnapshot('default').legacy.window;
    expect(w.status['3xx']).toBe(1);
    expect(w.errorRate).toBe(0);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

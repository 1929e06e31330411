// A request with more header fields than cutover forwards is refused with 431 (RFC 6585 section 5)
// rather than forwarded with its header list silently cut short.
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig } from './helpers/servers.js';
import { bodyOf, rawExchange, rawGet, statusOf } from './helpers/raw.js';

const headers = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: v\r\n`).join('');

it('refuses 2,100 header fields with 431 and forwards 990 of them whole', async () => {
  let received = 0;
  const backend = await startBackend((req, res) => {
    received = req.rawHeaders.filter((_, i) => i % 2 === 0 && /^x-h\d+$/.test(req.rawHeaders[i])).length;
    res.end('ok');
  });
  backend.server.maxHeadersCount = 0; // the test backend itself must see every field
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  try {
    const port = (proxy.app.proxy.server.address() as AddressInfo).port;
    const refused = await rawExchange(port, rawGet('/', headers(2100)));
    expect(statusOf(refused)).toBe(431);
    expect(bodyOf(refused)).toContain('"code":"too_many_headers"');
    expect(backend.hits).toBe(0);
    expect(proxy.app.stats.routeSnapshot('default').legacy.window.requests).toBe(0); // the client's error, not the backend's

    const ok = await rawExchange(port, rawGet('/', headers(990)));
    expect(statusOf(ok)).toBe(200);
    expect(received).toBe(990);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

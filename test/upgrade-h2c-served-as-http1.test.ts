// `Upgrade: h2c` (curl --http2 on http://) is not an upgrade cutover proxies: the request is served
// over HTTP/1.1 like any other (RFC 9110 section 7.8), without the upgrade fields upstream.
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, waitFor } from './helpers/servers.js';
import { bodyOf, rawExchange, statusOf } from './helpers/raw.js';

it('answers an h2c upgrade request with a plain 200 from the backend', async () => {
  let seen: IncomingHttpHeaders | undefined;
  const backend = await startBackend((req, res) => {
    seen = req.headers;
    res.end('plain');
  });
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  try {
    const raw = await rawExchange(
      (proxy.app.proxy.server.address() as AddressInfo).port,
      'GET /h2c HTTP/1.1\r\nhost: test\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    expect(statusOf(raw)).toBe(200);
    expect(bodyOf(raw)).toBe('plain');
    expect(backend.hits).toBe(1);
    expect(seen!.upgrade).toBeUndefined();
    expect(seen!['http2-settings']).toBeUndefined();
    expect(proxy.app.stats.routeSnapshot('default').legacy.window.status['2xx']).toBe(1);
    // Answered, it is no longer in flight: a drain does not wait for it.
    await waitFor(() => proxy.app.proxy.inFlight === 0, 2000, 'the answered h2c request to leave the in-flight count');
  } finally {
    await proxy.close();
    await backend.close();
  }
});

// A 103 Early Hints before the final response does not cost the client its 200. (The 103 itself
// is not forwarded.) An unsolicited 100 Continue still does: see README, "How a request flows".
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startProxy, testConfig } from './helpers/servers.js';
import { bodyOf, rawExchange, rawGet, statusOf } from './helpers/raw.js';
import { startRawBackend } from './helpers/raw-backend.js';

it('answers 200 after an upstream 103', async () => {
  const backend = await startRawBackend(
    'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
  );
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  try {
    const raw = await rawExchange((proxy.app.proxy.server.address() as AddressInfo).port, rawGet('/hints'));
    expect(statusOf(raw)).toBe(200);
    expect(bodyOf(raw)).toBe('ok');
  } finally {
    await proxy.close();
    await backend.close();
  }
});

// Bytes node cannot parse, arriving after a valid request on the same connection, do not cost the
// valid request its response: the response goes out whole, then the 400, then the connection closes.
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig } from './helpers/servers.js';
import { rawConnect, rawExchange } from './helpers/raw.js';

const GARBAGE = 'NOT\x01HTTP\r\n\r\n';

it('lets a streaming 200 finish when garbage follows it, then answers 400', async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const backend = await startBackend(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first-part;');
    await released;
    res.end('last-part');
  });
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  const client = await rawConnect((proxy.app.proxy.server.address() as AddressInfo).port);
  try {
    const sawClientError = new Promise<void>((r) => proxy.app.proxy.server.once('clientError', () => r()));
    let out = '';
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    const firstPart = new Promise<void>((resolve) => {
      client.setEncoding('latin1');
      client.on('data', (d: string) => {
        out += d;
        if (out.includes('first-part;')) resolve();
      });
    });
    client.write('GET /stream HTTP/1.1\r\nhost: test\r\n\r\n');
    await firstPart;
    client.write(GARBAGE);
    await sawClientError;
    release();
    await closed;
    const end = out.indexOf('\r\n0\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(end).toBeGreaterThan(0);
    const response = out.slice(0, end);
    expect(response).not.toContain('400 Bad Request');
    expect(response).toContain('first-part;');
    expect(response).toContain('last-part');
    expect(out.slice(end + 7)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  } finally {
    client.destroy();
    await proxy.close();
    await backend.close();
  }
});

it('answers a valid request pipelined before garbage, then 400', async () => {
  const backend = await startBackend((_req, res) => res.end('ok'));
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  try {
    const out = await rawExchange((proxy.app.proxy.server.address() as AddressInfo).port, `GET /a HTTP/1.1\r\nhost: test\r\n\r\n${GARBAGE}`);
    expect(backend.hits).toBe(1);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nokHTTP\/1\.1 400 Bad Request\r\n/);
    expect(proxy.app.stats.routeSnapshot('default').legacy.window.requests).toBe(1);
  } finally {
    await proxy.close();
    await backend.close();
  }
});

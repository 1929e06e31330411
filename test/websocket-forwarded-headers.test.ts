// A WebSocket upgrade is forwarded with the header rules of a plain request: hop-by-hop fields,
// fields named in Connection and Proxy-Authorization stay behind; X-Forwarded-* and x-request-id
// are set; only Connection: Upgrade and Upgrade travel on, because the upgrade needs them.
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startBackend, startProxy, testConfig } from './helpers/servers.js';
import { rawConnect } from './helpers/raw.js';

it('strips what plain requests strip and adds x-request-id', async () => {
  const backend = await startBackend();
  const wss = new WebSocketServer({ server: backend.server });
  let seen: IncomingHttpHeaders | undefined;
  wss.on('connection', (ws, req) => {
    seen = req.headers;
    ws.on('error', () => {});
  });
  const proxy = await startProxy(testConfig([backend.url], [backend.url]));
  const client = await rawConnect((proxy.app.proxy.server.address() as AddressInfo).port);
  try {
    const head = await new Promise<string>((resolve) => {
      let out = '';
      client.setEncoding('latin1');
      client.on('data', (d: string) => {
        out += d;
        if (out.includes('\r\n\r\n')) resolve(out);
      });
      client.write(
        'GET /chat HTTP/1.1\r\nhost: example.test\r\n' +
          'upgrade: websocket\r\nconnection: Upgrade, X-Secret\r\n' +
          'sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
          'x-secret: for this hop only\r\nproxy-authorization: Basic cHJveHk6cGFzcw==\r\n' +
          'keep-alive: timeout=5\r\nte: trailers\r\nx-kept: yes\r\n\r\n',
      );
    });
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(seen).toBeDefined();
    expect(seen!['x-secret']).toBeUndefined();
    expect(seen!['proxy-authorization']).toBeUndefined();
    expect(seen!['keep-alive']).toBeUndefined();
    expect(seen!.te).toBeUndefined();
    expect(seen!.connection).toBe('Upgrade');
    expect(seen!.upgrade).toBe('websocket');
    expect(seen!['x-kept']).toBe('yes');
    expect(seen!.host).toBe('example.test');
    expect(seen!['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen!['x-forwarded-host']).toBe('example.test');
    expect(seen!['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  } finally {
    client.destroy();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await proxy.close();
    await backend.close();
  }
});

// Hop-by-hop headers stay on their hop (RFC 9110 7.6.1); X-Forwarded-* are appended; a request id
// is kept or created and passed on; the response names the backend that served.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, type TestBackend, type TestProxy } from './helpers/servers.js';

let seen: IncomingHttpHeaders = {};
let backend: TestBackend;
let proxy: TestProxy;

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    seen = req.headers;
    res.writeHead(200, {
      connection: 'keep-alive, x-upstream-hop',
      'keep-alive': 'timeout=5',
      'x-upstream-hop': 'secret',
      'x-kept': 'yes',
      'set-cookie': ['a=1', 'b=2'],
    });
    res.end('ok');
  });
  proxy = await startProxy(testConfig([backend.url], [backend.url]));
});
afterAll(async () => {
  await proxy.close();
  await backend.close();
});

function raw(headers: Record<string, string>) {
  return new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/h`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('strips hop-by-hop request headers, including those named in Connection', async () => {
  await raw({ connection: 'keep-alive, x-hop', 'x-hop': 'drop me', 'keep-alive': 'timeout=1', te: 'trailers', 'proxy-authorization': 'Basic x', 'x-end': 'keep me' });
  expect(seen['x-hop']).toBeUndefined();
  expect(seen['keep-alive']).toBeUndefined();
  expect(seen.te).toBeUndefined();
  expect(seen['proxy-authorization']).toBeUndefined();
  expect(seen['x-end']).toBe('keep me');
});

it('appends X-Forwarded-For/-Proto/-Host and keeps the Host', async () => {
  await raw({ host: 'shop.example', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' });
  expect(seen['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  expect(seen['x-forwarded-proto']).toBe('https, http');
  expect(seen['x-forwarded-host']).toBe('shop.example');
  expect(seen.host).toBe('shop.example');
});

it('keeps a given x-request-id, creates one otherwise, and returns it to the client', async () => {
  const given = await raw({ 'x-request-id': 'abc-123' });
  expect(seen['x-request-id']).toBe('abc-123');
  expect(given.headers['x-request-id']).toBe('abc-123');
  const made = await raw({});
  expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(made.headers['x-request-id']).toBe(seen['x-request-id']);
});

it('strips hop-by-hop response headers and names the backend that served', async () => {
  const r = await raw({});
  expect(r.headers['x-upstream-hop']).toBeUndefined();
  expect(r.headers['x-kept']).toBe('yes');
  expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  expect(r.headers['x-cutover-backend']).toBe('legacy');
});

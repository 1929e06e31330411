// Requests whose framing is broken get an answer, not a dropped connection: a malformed chunked
// body is the client's error (400, JSON, Connection: close, never blamed on a backend), CONNECT
// is refused with 405 and Allow, and Connection tokens never strip Host or the body's framing.
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, track } from './helpers/servers.js';
import { rawExchange, statusOf, bodyOf } from './helpers/raw.js';

const port = (p: { app: { proxy: { server: { address(): unknown } } } }) => (p.app.proxy.server.address() as AddressInfo).port;

const MALFORMED: Array<[string, string]> = [
  ['chunk size 5g', 'transfer-encoding: chunked\r\n\r\n5g\r\nhello\r\n0\r\n\r\n'],
  ['chunk size 0x5', 'transfer-encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n'],
  ['chunk size with a leading space', 'transfer-encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n'],
  ['negative chunk size', 'transfer-encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n'],
  ['18 hex digits (overflows 64 bits)', 'transfer-encoding: chunked\r\n\r\nfffffffffffffffff5\r\nhello\r\n0\r\n\r\n'],
  ['a bare LF after the size', 'transfer-encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n'],
  ['data not followed by CRLF', 'transfer-encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n'],
  ['Transfer-Encoding: xchunked', 'transfer-encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
];

it.each(MALFORMED)('answers 400 with a JSON error and Connection: close to %s, and blames no backend', async (_name, rest) => {
  const backend = await track(startBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  }));
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const out = await rawExchange(port(proxy), `POST /upload HTTP/1.1\r\nhost: test\r\n${rest}`);
  expect(statusOf(out)).toBe(400);
  expect(out.toLowerCase()).toContain('connection: close');
  expect(JSON.parse(bodyOf(out)).error.code).toBeTypeOf('string');
  const s = proxy.app.stats.routeSnapshot('default');
  for (const b of ['legacy', 'candidate'] as const) {
    expect(s[b].cumulative.errors.other + s[b].cumulative.errors.reset + s[b].cumulative.errors.timeout).toBe(0);
  }
});

it('answers CONNECT with 405 and Allow, and counts it', async () => {
  const backend = await track(startBackend((_req, res) => res.end('ok')));
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const out = await rawExchange(port(proxy), 'CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
  expect(statusOf(out)).toBe(405);
  expect(out).toMatch(/\r\nallow: [A-Z, ]*GET/i);
  expect(JSON.parse(bodyOf(out)).error.code).toBe('method_not_allowed');
  expect(backend.hits).toBe(0);
});

it('keeps Host, Content-Length and the body when Connection lists them', async () => {
  let seen: { host?: string; length?: string; body: string } = { body: '' };
  const backend = await track(startBackend((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen = { host: req.headers.host, length: req.headers['content-length'], body };
      res.end('ok');
    });
  }));
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const out = await rawExchange(
    port(proxy),
    'POST /a HTTP/1.1\r\nhost: shop.example\r\ncontent-length: 5\r\nconnection: close, host, content-length, transfer-encoding\r\n\r\nhello',
  );
  expect(statusOf(out)).toBe(200);
  expect(seen).toEqual({ host: 'shop.example', length: '5', body: 'hello' });
});

// An upstream whose chunked body is malformed before any byte of it reached the client: the
// client gets a clean 502 with a JSON error (not an empty reply), counted against that backend.
// Once bytes have gone out, all cutover can do is cut the client off.
import { expect, it } from 'vitest';
import { startRawBackend } from './helpers/raw-backend.js';
import { rawExchange, rawGet, statusOf, bodyOf } from './helpers/raw.js';
import { startProxy, testConfig, track } from './helpers/servers.js';

const port = (url: string) => Number(new URL(url).port);

it('answers 502 when the first chunk size is malformed, and counts a backend error', async () => {
  const backend = await track(startRawBackend('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'));
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const out = await rawExchange(port(proxy.url), rawGet('/x'));
  expect(statusOf(out)).toBe(502);
  expect(JSON.parse(bodyOf(out)).error).toMatchObject({ code: 'upstream_error', backend: 'legacy' });
  const w = proxy.app.stats.routeSnapshot('default').legacy.window;
  expect(w.requests).toBe(1);
  expect(w.errors.other).toBe(1);
  expect(w.errorRate).toBe(1);
});

it('cuts the client off when the body breaks after bytes went out', async () => {
  const backend = await track(startRawBackend('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'));
  const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
  const out = await rawExchange(port(proxy.url), rawGet('/x'));
  expect(statusOf(out)).toBe(200);
  expect(out).toContain('hello');
  expect(out).not.toMatch(/\r\n0\r\n\r\n$/); // no terminating chunk: the client can tell it is cut short
});

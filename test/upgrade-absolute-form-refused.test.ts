// A WebSocket upgrade goes through the same checks as a plain request: an absolute-form target
// (`GET http://x/ HTTP/1.1`, the form only a forward proxy serves) is refused with 400 and the
// JSON error, on the socket, with Connection: close, counted once and never sent to a backend.
import { expect, it } from 'vitest';
import { bodyOf, rawExchange, statusOf } from './helpers/raw.js';
import { startBackend, startProxy, testConfig, track } from './helpers/servers.js';

const upgrade = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

it('refuses an upgrade with an absolute-form target with 400, like a plain request', async () => {
  let upgrades = 0;
  const b = await track(startBackend());
  b.server.on('upgrade', (_req, socket) => {
    upgrades++;
    socket.destroy();
  });
  const proxy = await track(startProxy(testConfig([b.url], [b.url])));
  const port = Number(new URL(proxy.url).port);

  const plain = await rawExchange(port, 'GET http://x/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const raw = await rawExchange(port, upgrade('http://x/'));
  expect(statusOf(plain)).toBe(400);
  expect(statusOf(raw)).toBe(400);
  expect(raw.toLowerCase()).toContain('connection: close');
  expect(JSON.parse(bodyOf(raw)).error.code).toBe(JSON.parse(bodyOf(plain)).error.code);
  expect(upgrades).toBe(0);
  expect(b.hits).toBe(0);
  expect(proxy.app.stats.answered.get('')?.get(400)).toBe(2); // counted once each
});

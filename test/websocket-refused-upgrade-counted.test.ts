// A WebSocket upgrade the backend refuses at once (403) is a response with its status, not a
// timeout seconds later; a successful upgrade (101) is counted too. Neither reverts anything.
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig } from './helpers/servers.js';

const upgrade = 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

it('counts 120 refused upgrades as 403 responses while the clients keep their sockets open', async () => {
  const legacy = await startBackend((_req, res) => res.end('legacy'));
  const candidate = await startBackend((_req, res) => res.end('candidate'));
  candidate.server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
  const proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }],
      backends: { legacy: { upstreams: [legacy.url] }, candidate: { upstreams: [candidate.url], timeouts: { responseMs: 1000 } } },
      guard: { enabled: true, intervalMs: 50 },
    }),
  );
  const port = Number(new URL(proxy.url).port);
  const sockets: Array<import('node:net').Socket> = [];
  try {
    const answers = await Promise.all(
      Array.from({ length: 120 }, () =>
        new Promise<string>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => s.write(upgrade));
          sockets.push(s); // kept open by the client: only the answer matters
          let out = '';
          s.on('data', (d) => {
            out += d;
            if (out.includes('\r\n\r\n')) resolve(out);
          });
          s.on('error', reject);
        }),
      ),
    );
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 403 /);
    // Past responseMs: nothing may turn into a timeout later.
    await new Promise((r) => setTimeout(r, 1500));
    const c = proxy.app.stats.routeSnapshot('default').candidate.cumulative;
    expect(c.status['4xx']).toBe(120);
    expect(c.errors.timeout).toBe(0);
    expect(proxy.app.control.latch('default')).toBeUndefined();
  } finally {
    for (const s of sockets) s.destroy();
    await proxy.close();
    await legacy.close();
    await candidate.close();
  }
}, 30_000);

it('counts a successful upgrade as a 101 response', async () => {
  const { WebSocketServer, default: WebSocket } = await import('ws');
  const candidate = await startBackend((_req, res) => res.end('candidate'));
  const wss = new WebSocketServer({ server: candidate.server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  const proxy = await startProxy(testConfig([candidate.url], [candidate.url], { routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }] }));
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/ws`);
      ws.on('open', () => ws.send('hi'));
      ws.on('message', (m) => {
        resolve(String(m));
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(reply).toBe('echo:hi');
    const c = proxy.app.stats.routeSnapshot('default').candidate.cumulative;
    expect(c.status['1xx']).toBe(1);
    expect(c.requests).toBe(1);
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await proxy.close();
    await candidate.close();
  }
});

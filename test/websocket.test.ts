// A WebSocket upgrade follows the split to the chosen backend and echoes through the proxy.
import { afterAll, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startBackend, startProxy, testConfig } from './helpers/servers.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function echoBackend(name: string) {
  const b = await startBackend((_req, res) => res.end(name));
  const wss = new WebSocketServer({ server: b.server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${name}:${m}`)));
  cleanup.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await b.close();
  });
  return b;
}

function echo(url: string, headers: Record<string, string> = {}) {
  return new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => ws.send('hello'));
    ws.on('message', (m) => {
      resolve(String(m));
      ws.close();
    });
    ws.on('error', reject);
  });
}

it('proxies a WebSocket echo to the backend the split chose', async () => {
  const legacy = await echoBackend('legacy');
  const candidate = await echoBackend('candidate');
  const proxy = await startProxy(testConfig([legacy.url], [candidate.url], {
    routes: [
      { name: 'ws', match: { pathPrefix: '/ws' }, candidatePercent: 100 },
      { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 },
    ],
  }));
  cleanup.push(() => proxy.close());
  const wsUrl = proxy.url.replace('http', 'ws');
  expect(await echo(`${wsUrl}/ws`)).toBe('candidate:hello');
  expect(await echo(`${wsUrl}/other`)).toBe('legacy:hello');
  expect(await echo(`${wsUrl}/ws`, { 'x-cutover-backend': 'legacy' })).toBe('legacy:hello');
});

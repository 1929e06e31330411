// Outlier detection hears a WebSocket upgrade's outcome like any request's: a legacy node that
// answers every upgrade with 503, or resets the connection, is ejected after a few, and the
// upgrades that follow all succeed on the other node.
import type { Duplex } from 'node:stream';
import { expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { wsEchoBackend } from './helpers/ws-backend.js';
import { startBackend, startProxy, testConfig, track } from './helpers/servers.js';


async function failingNode(fail: (socket: Duplex) => void) {
  const b = await startBackend((_req, res) => res.end('plain'));
  let upgrades = 0;
  b.server.on('upgrade', (_req, socket: Duplex) => {
    upgrades++;
    fail(socket);
  });
  const node = await track({ url: b.url, close: () => b.close() });
  return Object.assign(node, { upgrades: () => upgrades });
}

/** One upgrade: 'open' (and an echo), or the status the proxy answered with, or 'error'. */
function tryUpgrade(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m) => {
      resolve(String(m) === 'echo:hi' ? 'open' : `message ${m}`);
      ws.terminate();
    });
    ws.on('unexpected-response', (req, res) => {
      resolve(String(res.statusCode));
      req.destroy();
    });
    ws.on('error', () => resolve('error'));
  });
}

const cases: Array<[string, (socket: Duplex) => void, string]> = [
  ['answers 503', (s) => s.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'), '503'],
  ['resets the connection', (s) => s.destroy(), '502'],
];

for (const [what, fail, answer] of cases) {
  it(`ejects a legacy node that ${what} to every upgrade, and upgrades keep succeeding on the other`, async () => {
    const good = await wsEchoBackend('echo');
    const bad = await failingNode(fail);
    // Ejections long enough that the node stays out for the rest of the test, however slow the machine.
    const outlierDetection = { baseEjectionMs: 600_000, maxEjectionMs: 600_000 };
    const proxy = await track(
      startProxy(testConfig([bad.url, good.url], [good.url], { backends: { legacy: { upstreams: [bad.url, good.url], outlierDetection }, candidate: { upstreams: [good.url] } } })),
    );
    const url = `${proxy.url.replace('http', 'ws')}/ws`;
    const first: string[] = [];
    for (let i = 0; i < 8; i++) first.push(await tryUpgrade(url));
    expect(first).toContain(answer); // the bad node was tried and its failure reached the client
    const node = proxy.app.table.clusters.legacy.health().find((n) => n.origin === bad.url)!;
    expect(node.enforced).toBeGreaterThanOrEqual(1);
    expect(node.state).toBe('ejected');
    const tried = bad.upgrades();
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await tryUpgrade(url));
    expect(after).toEqual(Array(6).fill('open'));
    expect(bad.upgrades()).toBe(tried); // ejected: no upgrade reached it meanwhile
  });
}

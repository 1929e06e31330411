// A WebSocket upgrade writes the same access-log line as a plain request (log.accessLog): one
// line, with its request id, route, backend, status 101 and outcome.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createLogger } from '../src/log.js';
import { startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('logs one access-log line for an upgrade, with route, backend and status 101', async () => {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const b = await startBackend((_req, res) => res.end('plain'));
  const wss = new WebSocketServer({ server: b.server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  await track({
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await b.close();
    },
  });
  const proxy = await track(
    startProxy(
      testConfig([b.url], [b.url], {
        log: { level: 'info', accessLog: true },
        routes: [{ name: 'sockets', match: { pathPrefix: '/ws' }, candidatePercent: 100 }],
      }),
      { logger: createLogger('info', stream) },
    ),
  );
  const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/ws/chat?room=1`, { headers: { 'x-request-id': 'ws-log-me' } });
  await track({ close: async () => ws.terminate() });
  const reply = await new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m) => resolve(String(m)));
    ws.on('error', reject);
  });
  expect(reply).toBe('echo:hi');
  await waitFor(() => lines.some((l) => l.msg === 'request'), 5000, 'the access-log line');
  const logged = lines.filter((l) => l.msg === 'request');
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatchObject({ requestId: 'ws-log-me', method: 'GET', url: '/ws/chat?room=1', route: 'sockets', backend: 'candidate', status: 101, outcome: 'ok' });
});

// A backend that answers plain requests with its name and echoes WebSocket messages prefixed with
// it (`NAME:message`); closed when the test ends.
import { WebSocketServer } from 'ws';
import { startBackend, track } from './servers.js';

export async function wsEchoBackend(name: string): Promise<{ url: string; close(): Promise<void> }> {
  const b = await startBackend((_req, res) => res.end(name));
  const wss = new WebSocketServer({ server: b.server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${name}:${m}`)));
  return track({
    url: b.url,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await b.close();
    },
  });
}

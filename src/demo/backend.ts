// Built-in demo backends: a small JSON API with a configurable delay and an injectable fault.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'none' | 'errors' | 'latency';

export interface DemoBackend {
  readonly name: string;
  readonly url: string;
  readonly server: Server;
  /** Switch the backend's behaviour while it runs. */
  fault: Fault;
  close(): Promise<void>;
}

/** Start a backend on 127.0.0.1 (port 0 by default) answering after about `delayMs` (±20 %). */
export async function startDemoBackend(name: string, delayMs: number, port = 0): Promise<DemoBackend> {
  const backend = { name, fault: 'none' as Fault } as DemoBackend;
  const server = createServer((req, res) => {
    req.resume();
    const fault = backend.fault;
    const delay = (fault === 'latency' ? 50 : 1) * delayMs * (0.8 + Math.random() * 0.4);
    setTimeout(() => {
      if (fault === 'errors') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ backend: name, error: 'injected fault' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: name, path: req.url }));
    }, delay);
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return Object.assign(backend, {
    url: `http://127.0.0.1:${actual}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

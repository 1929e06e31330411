// Built-in demo backends: a small JSON API with a configurable delay and an injectable fault. The
// candidate is the rewrite, and like many rewrites it is fast and almost right: it forgets the
// discount when it computes an order's total, and it adds a timestamp (servedAt) to every answer.
// Both answer 200; only a comparison of the answers (parity) can tell.
import { createServer, type IncomingMessage, type Server } from 'node:http';
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

/** Every third user has a 5.00 discount; the candidate's total leaves it out. */
export function orderOf(user: number, candidate: boolean) {
  const items = [
    { sku: 'book', price: 12, qty: 2 },
    { sku: 'pen', price: 3, qty: 5 },
  ];
  const discount = user % 3 === 0 ? 5 : 0;
  const subtotal = items.reduce((a, i) => a + i.price * i.qty, 0);
  return { user, items, discount, total: candidate ? subtotal : subtotal - discount };
}

function bodyOf(name: string, req: IncomingMessage): Record<string, unknown> {
  const candidate = name === 'candidate';
  const path = req.url ?? '/';
  const user = Number(/(\d+)$/.exec(String(req.headers['x-user-id'] ?? ''))?.[1] ?? 0);
  const body: Record<string, unknown> = path.startsWith('/api/v1/orders') ? { path, ...orderOf(user, candidate) } : { path };
  if (candidate) body.servedAt = new Date().toISOString(); // differs on every answer: noise, not a mismatch
  return body;
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
        res.writeHead(500, { 'content-type': 'application/json', 'x-demo-backend': name });
        res.end(JSON.stringify({ error: 'injected fault' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-demo-backend': name });
      res.end(JSON.stringify(bodyOf(name, req)));
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

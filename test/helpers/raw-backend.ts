// A backend that answers each request with fixed bytes, written straight to the socket, for
// responses node:http would not produce (interim responses, framing oddities).
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawBackend {
  url: string;
  hits: number;
  close(): Promise<void>;
}

/** Answer every request head received with `answer` (the connection stays open). */
export async function startRawBackend(answer: string): Promise<RawBackend> {
  const sockets = new Set<Socket>();
  const b = { hits: 0 } as RawBackend;
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        buf = buf.slice(end + 4);
        b.hits++;
        s.write(answer);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(b, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

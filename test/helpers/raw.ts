// Raw TCP clients for tests where the exact bytes matter (node's and undici's clients normalise
// or refuse what these tests need to send).
import { connect, type Socket } from 'node:net';

/** Open a connection to 127.0.0.1:port; the caller destroys it. */
export function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Send `bytes` on a fresh connection and collect everything until the server closes it. */
export async function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  const s = await rawConnect(port);
  return new Promise((resolve) => {
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
    s.write(bytes);
  });
}

/** `GET path` with Connection: close and the given extra header lines. */
export const rawGet = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nhost: test\r\n${extra}connection: close\r\n\r\n`;

/** The status code of the first response in `raw`. */
export const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

/** The body of a single Content-Length response in `raw`. */
export const bodyOf = (raw: string) => raw.slice(raw.indexOf('\r\n\r\n') + 4);

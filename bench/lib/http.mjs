// Small loopback HTTP helpers for the bench's own control requests (never on the measured path).
import { request } from 'node:http';
import { createServer } from 'node:net';

/** GET `url` on a fresh connection; resolves { status, headers, body } or rejects within `timeoutMs`. */
export function get(url, timeoutMs = 2000) {
  return send('GET', url, undefined, timeoutMs);
}

/** POST `body` (a string) to `url` on a fresh connection; as get(). */
export function post(url, body, timeoutMs = 2000) {
  return send('POST', url, body, timeoutMs);
}

function send(method, url, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A port that was free on 127.0.0.1 a moment ago (for programs that cannot listen on port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The `address` field of a JSON log line whose `msg` is `msg`, or undefined. */
export function addressFromLogLine(line, msg) {
  if (!line.includes(msg)) return undefined;
  try {
    const o = JSON.parse(line);
    return o.msg === msg && typeof o.address === 'string' ? o.address : undefined;
  } catch {
    return undefined;
  }
}

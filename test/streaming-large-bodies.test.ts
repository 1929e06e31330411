// 50 MB up and 50 MB down through the proxy, streamed: the proxy's memory must not grow by the body size.
import { request as httpRequest } from 'node:http';
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './helpers/servers.js';
import { startProxyProcess, writeConfig, type ProxyProcess } from './helpers/process.js';

const SIZE = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Write SIZE bytes to `out` in CHUNKs, waiting for 'drain' whenever it asks, then end it. */
function pump(out: Writable, sent = 0): void {
  while (sent < SIZE) {
    sent += CHUNK.length;
    if (!out.write(CHUNK)) {
      out.once('drain', () => pump(out, sent));
      return;
    }
  }
  out.end();
}

let backend: TestBackend;
let proxy: ProxyProcess;

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    if (req.method === 'POST') {
      let received = 0;
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => res.end(JSON.stringify({ received })));
      return;
    }
    // Download: write SIZE bytes honouring backpressure.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
    pump(res);
  });
  proxy = await startProxyProcess(
    writeConfig({
      listen: { host: '127.0.0.1', port: 0 },
      backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } },
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    }),
  );
}, 30_000);

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
});

function upload(): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/upload`, { method: 'POST', headers: { 'content-length': SIZE } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    pump(req);
  });
}

function download(slow: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest(`${proxy.url}/download`, (res) => {
      let received = 0;
      res.on('data', (c: Buffer) => {
        received += c.length;
        // A slow reader: pause now and then, so backpressure must reach the upstream.
        if (slow && received % (8 * 1024 * 1024) < c.length) {
          res.pause();
          setTimeout(() => res.resume(), 50);
        }
      });
      res.on('end', () => resolve(received));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

it('streams a 50 MB upload and a 50 MB download without buffering them', async () => {
  // Warm up so that code and pools are loaded before the baseline is taken.
  await download(false);
  const before = proxy.memory();
  const up = await upload();
  expect(up.status).toBe(200);
  expect(JSON.parse(up.body).received).toBe(SIZE);
  expect(await download(true)).toBe(SIZE);
  const after = proxy.memory();
  const growthMb = (after.peakKb - before.peakKb) / 1024;
  // Buffering either body would add at least 50 MB to the peak; streaming stays far below that.
  expect(growthMb).toBeLessThan(25);
}, 60_000);

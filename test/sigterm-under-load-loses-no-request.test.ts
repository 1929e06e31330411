// SIGTERM in the middle of a paced load (200 req/s, every other request on a keep-alive
// connection, the others each on a new connection, one in ten held 300 ms by the backend), with a
// 2 s drain period. The client behaves like a load balancer: 1 s after the load starts it sends
// SIGTERM, keeps sending for half the drain period more (the time a balancer takes to notice),
// then sends nothing more to this instance. Every request it sent is accounted for:
//   answered  a status line and the whole body: must be all of them;
//   refused   ECONNREFUSED, no connection (the listener had closed): 0 here, since the client
//             left before the drain period ended (a client that keeps sending after it is refused,
//             and may race the close: the bench's drain scenario counts that case);
//   reset     RST on a connection that was open, accepted by the kernel: must be 0;
//   hangup    the connection closed before a response: must be 0;
//   other     any other error: must be 0.
// Also: readiness 503 while requests are still answered, Connection: close on every response to a
// request sent after that, exit code 0 and the state file current.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { request } from 'node:http';
import { pacedLoad, tally } from './helpers/paced-outcomes.js';
import { startProxyProcess, writeConfig } from './helpers/process.js';
import { admin, startBackend } from './helpers/servers.js';

it('SIGTERM mid-load: no request reset or hung up, not ready during the drain, exit 0, state flushed', async () => {
  const backend = await startBackend((req, res) => {
    req.resume();
    setTimeout(() => res.end('ok'), req.url === '/slow' ? 300 : 0);
  });
  const file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    guard: { enabled: false },
    shutdownDrainSeconds: 2,
    shutdownGraceSeconds: 10,
  });
  const proxy = await startProxyProcess(file);
  try {
    const adminUrl = await proxy.adminUrl();
    expect((await admin(adminUrl, 'PUT', '/api/v1/split', { candidatePercent: 0.5, reason: 'before the drain' })).status).toBe(200);

    // Readiness, polled through the load. As soon as it says 503, one more request on a new
    // connection: still answered (the drain period), with Connection: close.
    let probe: Promise<{ status?: number; connection?: string }> | undefined;
    let notReadyAt = Infinity;
    let polling = true;
    const poll = (async () => {
      while (polling && !probe) {
        const status = await admin(adminUrl, 'GET', '/readyz').then((r) => r.status, () => 0);
        if (status === 503) {
          notReadyAt = performance.now();
          probe = getOnce(`${proxy.url}/after-not-ready`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    let signalledAt = Infinity;
    const started = performance.now();
    const records = await pacedLoad({
      url: proxy.url,
      rate: 200,
      seconds: 3,
      keepAliveSockets: 8,
      path: (seq) => (seq % 10 === 5 ? '/slow' : `/fast/${seq}`),
      stopWhen: () => {
        const now = performance.now();
        if (signalledAt === Infinity && now - started >= 1000) {
          signalledAt = now;
          proxy.child.kill('SIGTERM');
        }
        return now - signalledAt >= 1000; // moved away, half-way through the drain period
      },
    });
    polling = false;
    await poll;
    const code = await proxy.exited;

    const t = tally(records);
    const failures = records.filter((r) => r.outcome === 'reset' || r.outcome === 'hangup' || r.outcome === 'other');
    expect(failures, JSON.stringify(t)).toEqual([]);
    expect(records.filter((r) => r.outcome === 'answered' && r.status !== 200)).toEqual([]);
    expect(t).toEqual({ answered: records.length, refused: 0, reset: 0, hangup: 0, other: 0 });
    expect(records.length).toBeGreaterThan(100); // the load ran (2 s at 200 req/s is 400)

    // Not ready during the drain, and still serving: the request sent after /readyz said 503 was
    // answered and told the client to close its connection, as did every answer after the signal.
    expect(probe).toBeDefined();
    expect(await probe).toEqual({ status: 200, connection: 'close' });
    expect(records.filter((r) => r.sentAt > notReadyAt && r.connection !== 'close')).toEqual([]);
    // Keep-alive and new connections were both served during the drain (answers with Connection: close).
    const drained = records.filter((r) => r.connection === 'close');
    expect(drained.some((r) => r.keepAlive)).toBe(true);
    expect(drained.some((r) => !r.keepAlive)).toBe(true);

    expect(code).toBe(0);
    const state = JSON.parse(readFileSync(join(dirname(file), 'cutover-state.json'), 'utf8'));
    expect(state.routes.default.candidatePercent).toBe(0.5);
    expect(proxy.lines.some((l) => l.includes('shutdown: done, state flushed'))).toBe(true);
    process.stdout.write(`sigterm under load: ${JSON.stringify(t)} of ${records.length}; ${drained.length} answered during the drain\n`);
  } finally {
    await proxy.stop('SIGKILL');
    await backend.close();
  }
}, 30_000);

/** One GET on a new connection: its status and Connection header. */
function getOnce(url: string): Promise<{ status?: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection }));
    })
      .on('error', reject)
      .end();
  });
}

// cutover with `workers: 2` as a real process tree (a primary and its workers), two named
// backends, and a load that records every request's outcome: for the workers and restart tests.
import { Agent, Client, Pool, request } from 'undici';
import { startProxyProcess, writeConfig, type ProxyProcess } from './process.js';
import { admin, named, waitFor, type TestBackend } from './servers.js';

export interface WorkersSetup {
  proxy: ProxyProcess;
  adminUrl: string;
  legacy: TestBackend;
  candidate: TestBackend;
  /** GET /api/v1/status */
  status(): Promise<any>;
  close(): Promise<void>;
}

export async function startWorkers(extra: Record<string, unknown> = {}, backends?: { legacy: TestBackend; candidate: TestBackend }): Promise<WorkersSetup> {
  const legacy = backends?.legacy ?? (await named('legacy'));
  const candidate = backends?.candidate ?? (await named('candidate'));
  const file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [legacy.url] }, candidate: { upstreams: [candidate.url] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    guard: { enabled: false },
    workers: 2,
    ...extra,
  });
  const proxy = await startProxyProcess(file);
  const adminUrl = await proxy.adminUrl();
  return {
    proxy,
    adminUrl,
    legacy,
    candidate,
    status: async () => (await admin(adminUrl, 'GET', '/api/v1/status')).body,
    async close() {
      await proxy.stop('SIGTERM');
      await legacy.close();
      await candidate.close();
    },
  };
}

/** One request on a connection of its own (so that the cluster hands each to the next worker). */
export async function onNewConnection(url: string, headers: Record<string, string> = {}) {
  const agent = new Agent({ pipelining: 0 });
  try {
    const res = await request(url, { dispatcher: agent, headers });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  } finally {
    await agent.close();
  }
}

/** A keep-alive connection known to be served by one worker (workers[].id in the status). */
export interface WorkerConnection {
  workerId: number;
  /** A request on this connection; throws if the connection was ever replaced by another. */
  get(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
}

/**
 * One keep-alive connection to each serving worker, so that a test decides which worker serves
 * each request instead of relying on how connections are spread between them. Each connection's
 * worker is found by one request on it (`probePath`) and which worker's served count grew in the
 * status (sequentially, so exactly one grows); connections that reach a worker already found are
 * closed. The probe requests are counted in `served` like any other.
 */
export async function connectionPerWorker(w: WorkersSetup, probePath: string, maxConnections = 100) {
  const servedBy = async () =>
    new Map(((await w.status()).workers as Array<{ id: number; served: { legacy: number; candidate: number } }>).map((x) => [x.id, x.served.legacy + x.served.candidate]));
  const workers = (await servedBy()).size;
  const found = new Map<number, WorkerConnection>();
  const clients: Client[] = [];
  const close = async () => void (await Promise.all(clients.map((c) => c.close())));
  try {
    for (let i = 0; found.size < workers; i++) {
      if (i === maxConnections) throw new Error(`${maxConnections} connections reached only workers ${[...found.keys()].join(', ')} of ${workers}`);
      const before = await servedBy();
      // Never closed by the client while the test runs (undici would otherwise reconnect, maybe to another worker).
      const client = new Client(w.proxy.url, { pipelining: 1, keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000 });
      clients.push(client);
      let connects = 0;
      client.on('connect', () => connects++);
      const get = async (path: string) => {
        const res = await client.request({ path, method: 'GET' });
        const body = await res.body.text();
        if (connects !== 1) throw new Error(`the connection was replaced (${connects} connections): the worker serving it is no longer known`);
        return { status: res.statusCode, headers: res.headers, body };
      };
      await get(probePath);
      let grew: number[] = [];
      await waitFor(async () => {
        const after = await servedBy();
        grew = [...after].filter(([id, n]) => n > (before.get(id) ?? 0)).map(([id]) => id);
        return grew.length > 0;
      }, 5000, 'the probe request counted by a worker');
      if (grew.length !== 1) throw new Error(`one probe request was counted by workers ${grew.join(', ')}`);
      if (found.has(grew[0])) await clients.pop()!.close();
      else found.set(grew[0], { workerId: grew[0], get });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { byWorker: [...found.values()], close };
}

export interface LoadOutcome {
  sent: number;
  statuses: Record<number, number>;
  errors: Record<string, number>;
}

/**
 * Paced load until stop(): `rate` req/s over a keep-alive pool of 20 connections, and every
 * `newEvery`-th request on a connection of its own. Bounded: at most `maxSeconds`, and at most
 * 500 requests outstanding. Every outcome is counted: a status, or the error's code.
 */
export function pacedLoad(url: string, { rate = 200, newEvery = 4, maxSeconds = 60 } = {}) {
  const pool = new Pool(url, { connections: 20 });
  const out: LoadOutcome = { sent: 0, statuses: {}, errors: {} };
  let inFlight = 0;
  const started = performance.now();
  const outcome = (p: Promise<number>, kind: string) => {
    inFlight++;
    p.then(
      (status) => void (out.statuses[status] = (out.statuses[status] ?? 0) + 1),
      (err: { code?: string; name?: string }) => {
        const k = `${kind}: ${err.code ?? err.name ?? 'error'} ${(err as Error).message} @${Math.round(performance.now() - started)}`;
        out.errors[k] = (out.errors[k] ?? 0) + 1;
      },
    ).finally(() => inFlight--);
  };
  let due = 0;
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    if (elapsed > maxSeconds * 1000) return clearInterval(timer);
    for (const target = Math.floor((rate * elapsed) / 1000); due < target && inFlight < 500; due++) {
      out.sent++;
      if (out.sent % newEvery === 0) outcome(onNewConnection(url).then((r) => r.status), 'new');
      else outcome(pool.request({ path: '/', method: 'GET' }).then(async (r) => (await r.body.dump(), r.statusCode)), 'keep-alive');
    }
  }, 5);
  return {
    out,
    async stop(): Promise<LoadOutcome> {
      clearInterval(timer);
      const until = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await pool.close();
      return out;
    },
  };
}

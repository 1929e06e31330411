// cutover with `workers: 2` as a real process tree (a primary and its workers), two named
// backends, and a load that records every request's outcome: for the workers and restart tests.
import { Agent, Pool, request } from 'undici';
import { startProxyProcess, writeConfig, type ProxyProcess } from './process.js';
import { admin, named, type TestBackend } from './servers.js';

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

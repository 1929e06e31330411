// Real servers on 127.0.0.1 port 0 for tests, and a proxy built from a config fragment.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { onTestFinished } from 'vitest';
import { App, type AppOptions } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';

export interface TestBackend {
  url: string;
  port: number;
  server: Server;
  /** Requests that reached this backend. */
  hits: number;
  close(): Promise<void>;
}

export async function startBackend(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok'),
): Promise<TestBackend> {
  const b = { hits: 0 } as TestBackend;
  const server = createServer((req, res) => {
    b.hits++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(b, {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** A backend that answers with its name in the body. */
export const named = (name: string) => startBackend((req, res) => {
  req.resume();
  res.setHeader('content-type', 'text/plain');
  res.end(name);
});

/** A loopback port with nothing listening on it (connections are refused). */
export async function deadPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export type ConfigInput = Record<string, unknown>;

export function testConfig(legacy: string[], candidate: string[], extra: ConfigInput = {}): Config {
  return parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: legacy }, candidate: { upstreams: candidate } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    log: { level: 'silent' },
    admin: { host: '127.0.0.1', port: 0 },
    // The guard acts on its own timer; tests about other things keep it out of their way.
    guard: { enabled: false },
    ...extra,
  });
}

export interface TestProxy {
  app: App;
  url: string;
  /** The admin listener, e.g. http://127.0.0.1:PORT */
  admin: string;
  close(): Promise<void>;
}

export async function startProxy(config: Config, options: Partial<AppOptions> = {}): Promise<TestProxy> {
  const app = new App({ config, logger: createLogger('silent'), ...options });
  await app.start();
  return {
    app,
    url: `http://127.0.0.1:${app.proxyAddress!.port}`,
    admin: `http://127.0.0.1:${app.adminAddress?.port}`,
    close: () => app.close(1000),
  };
}

/** An HTTP client of the test's own, closed by the test. */
export function client() {
  const agent = new Agent({ connections: 64 });
  return {
    agent,
    async get(url: string, headers: Record<string, string> = {}) {
      const res = await request(url, { dispatcher: agent, headers });
      const body = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body };
    },
    close: () => agent.close(),
  };
}

/** Poll until `cond` holds (for effects that land after the response, such as abort counts). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One admin API call; returns the status and the parsed JSON body. */
export async function admin(base: string, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

export interface TwoBackendProxy {
  legacy: TestBackend;
  candidate: TestBackend;
  proxy: TestProxy;
  http: ReturnType<typeof client>;
  close(): Promise<void>;
}

/** Two named backends ("legacy", "candidate") behind a proxy with these routes, and a client. */
export async function startTwoBackendProxy(routes: unknown[], options: Partial<AppOptions> = {}, extra: ConfigInput = {}): Promise<TwoBackendProxy> {
  const legacy = await named('legacy');
  const candidate = await named('candidate');
  const proxy = await startProxy(testConfig([legacy.url], [candidate.url], { routes, ...extra }), options);
  const http = client();
  return {
    legacy,
    candidate,
    proxy,
    http,
    async close() {
      await http.close();
      await proxy.close();
      await legacy.close();
      await candidate.close();
    },
  };
}

/** The server or client `p` is (or resolves to), closed when the current test ends, whether it passed or not. */
export async function track<T extends { close(): Promise<unknown> }>(p: T | Promise<T>): Promise<T> {
  const v = await p;
  onTestFinished(async () => {
    await v.close();
  });
  return v;
}

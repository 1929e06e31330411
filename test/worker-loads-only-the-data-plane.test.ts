// A worker of `workers: N` carries only what serves a request: the proxy, the split, the stats and
// their snapshot encoder, and the IPC to its primary. It never loads the admin API (fastify), the
// metrics registry (prom-client), Redis (ioredis), the config tooling (TypeBox, yaml), the
// statistics (jstat), pino, or cutover's guard, ramp, report, admin, fleet and metrics code; the
// primary carries those. Every module each process loads is recorded by a loader hook.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startProxyProcess, writeConfig, type ProxyProcess } from './helpers/process.js';
import { admin, named, type TestBackend } from './helpers/servers.js';

const FORBIDDEN_PACKAGES = ['fastify', 'prom-client', 'ioredis', '@sinclair/typebox', 'yaml', 'jstat', 'pino', 'pino-pretty'];
const FORBIDDEN_OWN = ['/dist/admin/', '/dist/guard/runner.js', '/dist/guard/policy.js', '/dist/guard/rules.js', '/dist/guard/bounds.js', '/dist/ramp/', '/dist/report/', '/dist/fleet/fleet.js', '/dist/state/redis-store.js', '/dist/metrics/metrics.js', '/dist/config/load.js', '/dist/config/schema.js', '/dist/app.js', '/dist/control-plane.js'];

const dir = mkdtempSync(join(tmpdir(), 'cutover-loads-'));
const helper = new URL('./helpers/record-loads.mjs', import.meta.url).pathname;
let proxy: ProxyProcess;
let legacy: TestBackend;
let candidate: TestBackend;
let workerPids: number[];

beforeAll(async () => {
  legacy = await named('legacy');
  candidate = await named('candidate');
  const file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [legacy.url] }, candidate: { upstreams: [candidate.url] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 50, shadow: { percent: 100 } }],
    workers: 1,
  });
  proxy = await startProxyProcess(file, [], { CUTOVER_LOADS_DIR: dir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${helper}` });
  // Traffic first, so that whatever a request (or its shadow copy) needs has been loaded.
  for (let i = 0; i < 20; i++) expect((await fetch(`${proxy.url}/r${i}`)).status).toBe(200);
  const status = (await admin(await proxy.adminUrl(), 'GET', '/api/v1/status')).body;
  workerPids = status.workers.map((w: { pid: number }) => w.pid);
}, 60_000);

afterAll(async () => {
  await proxy?.stop('SIGTERM');
  await legacy?.close();
  await candidate?.close();
});

const loadedBy = (pid: number) => readFileSync(join(dir, String(pid)), 'utf8').split('\n').filter(Boolean);
const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

it('the worker loads the data plane and nothing of the control plane', () => {
  expect(workerPids).toHaveLength(1);
  const urls = loadedBy(workerPids[0]);
  const packages = new Set(urls.map(packageOf).filter((p) => p !== undefined));
  // What serves a request is there (the test would pass vacuously if nothing were recorded).
  expect([...packages]).toEqual(expect.arrayContaining(['undici', 'hdr-histogram-js', 'microdiff']));
  expect(urls.some((u) => u.endsWith('/dist/proxy/server.js'))).toBe(true);
  expect(FORBIDDEN_PACKAGES.filter((p) => packages.has(p))).toEqual([]);
  expect(urls.filter((u) => FORBIDDEN_OWN.some((f) => u.includes(f)))).toEqual([]);
});

it('the primary carries the control plane (so the check above can see those modules)', () => {
  const files = readdirSync(dir).map(Number).filter((pid) => !workerPids.includes(pid));
  const primary = files.map(loadedBy).find((urls) => urls.some((u) => u.endsWith('/dist/workers/primary.js')));
  expect(primary).toBeDefined();
  const packages = new Set(primary!.map(packageOf));
  expect(['fastify', 'prom-client'].filter((p) => packages.has(p))).toEqual(['fastify', 'prom-client']);
});

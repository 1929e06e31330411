// The CLI drives a running cutover through the admin API; API errors come back as the API's message.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { named, startProxy, testConfig, type TestBackend, type TestProxy } from './helpers/servers.js';
import { runCli, writeConfig } from './helpers/process.js';

let backend: TestBackend;
let proxy: TestProxy;
const TOKEN = 'cli-token';
const env = () => ({ CUTOVER_ADMIN_URL: proxy.admin, CUTOVER_ADMIN_TOKEN: TOKEN });

beforeAll(async () => {
  backend = await named('b');
  proxy = await startProxy(
    testConfig([backend.url], [backend.url], {
      routes: [
        { name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 10 },
        { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 5 },
      ],
    }),
    { adminToken: TOKEN },
  );
});
afterAll(async () => {
  await proxy.close();
  await backend.close();
});

it('status prints a table, and JSON with --json', async () => {
  const t = await runCli(['status'], env());
  expect(t.code, t.stderr).toBe(0);
  expect(t.stdout).toMatch(/route\s+candidate%\s+backend\s+requests\s+p50 ms\s+p99 ms\s+errors/);
  expect(t.stdout).toMatch(/^api\s+10\s+legacy/m);
  const j = await runCli(['status', '--json'], env());
  expect(JSON.parse(j.stdout).routes.map((r: { name: string }) => r.name)).toEqual(['api', 'default']);
}, 30_000);

it('set, promote and rollback change the split and are recorded as source cli', async () => {
  expect((await runCli(['set', '25', '--route', 'api', '--reason', 'ramp'], env())).stdout).toContain('api: candidate 25 %');
  expect(proxy.app.control.percent('api')).toBe(25);
  expect(proxy.app.control.percent('default')).toBe(5);
  await runCli(['promote'], env());
  expect(proxy.app.control.percent('default')).toBe(100);
  const rb = await runCli(['rollback', '--reason', 'p99 regression'], env());
  expect(rb.code).toBe(0);
  expect(proxy.app.control.percent('api')).toBe(0);
  expect(proxy.app.control.history().find((c) => c.kind === 'split')).toMatchObject({ source: 'cli', reason: 'p99 regression' });
}, 30_000);

it('maintenance on|off and drain', async () => {
  expect((await runCli(['maintenance', 'on', '--retry-after', '60'], env())).stdout).toContain('maintenance ON (Retry-After 60 s)');
  expect(proxy.app.control.maintenance).toMatchObject({ enabled: true, retryAfterSeconds: 60 });
  await runCli(['maintenance', 'off'], env());
  expect(proxy.app.control.maintenance.enabled).toBe(false);
  const d = await runCli(['drain', '--timeout', '2'], env());
  expect(d.code).toBe(0);
  expect(d.stdout).toMatch(/drained/);
}, 30_000);

it('shows the API error and exits non-zero', async () => {
  const bad = await runCli(['set', '150'], env());
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('candidatePercent must be a number from 0 to 100');
  const unknown = await runCli(['set', '5', '--route', 'nope'], env());
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('no route named "nope"');
  const noToken = await runCli(['status'], { CUTOVER_ADMIN_URL: proxy.admin, CUTOVER_ADMIN_TOKEN: '' });
  expect(noToken.code).toBe(1);
  expect(noToken.stderr).toContain('Authorization: Bearer');
  const usage = await runCli(['rollback'], env());
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('--reason TEXT is required');
  const down = await runCli(['status', '--admin', 'http://127.0.0.1:1'], {});
  expect(down.code).toBe(1);
  expect(down.stderr).toContain('cannot reach the admin API');
}, 30_000);

it('--version, history, and finding the admin API from --config FILE', async () => {
  const v = await runCli(['--version']);
  expect(v.stdout).toMatch(/^cutover \d+\.\d+\.\d+/);
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'cutover-cli-'));
  writeFileSync(join(dir, 'token'), TOKEN);
  const file = writeConfig(
    { listen: { port: 0 }, backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } }, routes: [{ name: 'x', candidatePercent: 0 }], admin: { port: Number(new URL(proxy.admin).port), tokenFile: 'token' } },
    dir,
  );
  const set = await runCli(['set', '7', '--route', 'api', '--reason', 'from config', '--json', '--config', file], { CUTOVER_ADMIN_TOKEN: '', CUTOVER_ADMIN_URL: '' });
  expect(set.code, set.stderr).toBe(0);
  expect(JSON.parse(set.stdout).routes.api).toBe(7);
  const h = await runCli(['history', '--route', 'api', '--limit', '1', '--config', file], { CUTOVER_ADMIN_TOKEN: '' });
  expect(h.stdout.trim().split('\n')).toHaveLength(1);
  expect(h.stdout).toMatch(/candidate \d+ % → 7 % on api \(cli: from config\)/);
}, 30_000);

// pause, resume, promote, promote --full and abort through the CLI (which finds the admin API from
// --config), each doing exactly what it says, and each surviving a restart of the cutover process.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startProxyProcess, writeConfig, type ProxyProcess } from './helpers/process.js';
import { deadPort, named, type TestBackend } from './helpers/servers.js';

let legacy: TestBackend;
let candidate: TestBackend;
let file: string;
let proc: ProxyProcess | undefined;

beforeAll(async () => {
  legacy = await named('legacy');
  candidate = await named('candidate');
  const adminPort = Number(new URL(await deadPort()).port);
  file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [legacy.url] }, candidate: { upstreams: [candidate.url] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds: 3600 } }],
    admin: { host: '127.0.0.1', port: adminPort },
    log: { level: 'info', format: 'json' },
  });
  proc = await startProxyProcess(file);
});
afterAll(async () => {
  await proc?.stop();
  await legacy.close();
  await candidate.close();
});

async function restart(): Promise<void> {
  expect(await proc!.stop()).toBe(0);
  proc = await startProxyProcess(file);
}

async function ramp(...args: string[]) {
  const r = await runCli(['ramp', ...args, '--config', file, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { changes?: unknown[]; routes: Record<string, any> };
}

it('each command does what it says and survives a restart', async () => {
  expect((await ramp('start')).routes.default).toMatchObject({ state: 'running', step: 1, candidatePercent: 10 });

  const paused = (await ramp('pause')).routes.default;
  expect(paused).toMatchObject({ state: 'paused', step: 1, candidatePercent: 10 });
  expect((await ramp('pause')).changes).toEqual([]); // idempotent
  await restart();
  expect((await ramp('status')).routes.default).toMatchObject({ state: 'paused', step: 1, candidatePercent: 10, holdLeftSeconds: paused.holdLeftSeconds });

  const resumed = (await ramp('resume')).routes.default;
  expect(resumed).toMatchObject({ state: 'running', step: 1 });
  await restart();
  // The hold's deadline is wall-clock and persisted: a restart does not restart the hold.
  expect((await ramp('status')).routes.default).toMatchObject({ state: 'running', step: 1, candidatePercent: 10, holdUntil: resumed.holdUntil });

  expect((await ramp('promote')).routes.default).toMatchObject({ state: 'running', step: 2, candidatePercent: 50, nextPercent: 100 });
  await restart();
  expect((await ramp('status')).routes.default).toMatchObject({ state: 'running', step: 2, candidatePercent: 50 });

  await ramp('pause');
  expect((await ramp('promote', '--full')).routes.default).toMatchObject({ state: 'done', candidatePercent: 100 });
  await restart();
  expect((await ramp('status')).routes.default).toMatchObject({ state: 'done', candidatePercent: 100 });

  expect((await ramp('start')).routes.default).toMatchObject({ state: 'running', step: 1, candidatePercent: 10 });
  expect((await ramp('abort')).routes.default).toMatchObject({ state: 'aborted', candidatePercent: 0 });
  await restart();
  expect((await ramp('status')).routes.default).toMatchObject({ state: 'aborted', candidatePercent: 0 });

  // Every step is in the history, as the CLI shows it.
  const h = await runCli(['history', '--route', 'default', '--config', file]);
  expect(h.stdout).toMatch(/ramp \(ramp-ended\) on default: running 1\/3 at 10 % → aborted 1\/3 at 10 % \(cli: abort\)/);
  expect(h.stdout).toMatch(/candidate 50 % → 100 % on default \(cli/);
  expect(h.stdout).not.toContain('[object Object]');
}, 180_000);

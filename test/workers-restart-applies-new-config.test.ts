// workers: 2: `cutover restart` applies what a reload cannot (here stats.windowSeconds) through new
// workers, says what changed, and says what needs a stop and start (admin) instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './helpers/process.js';
import { startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
beforeAll(async () => {
  w = await startWorkers();
}, 60_000);
afterAll(async () => w?.close());

it('restarts the workers with the new file and reports what changed', async () => {
  const file = w.proxy.child.spawnargs[w.proxy.child.spawnargs.indexOf('--config') + 1];
  const before = await w.status();
  expect(before.windowSeconds).toBe(60);
  const config = parse(readFileSync(file, 'utf8'));
  writeFileSync(file, stringify({ ...config, stats: { windowSeconds: 20 }, admin: { ...config.admin, protectMetrics: true } }));
  const r = await runCli(['restart', '--reason', 'new window'], { CUTOVER_ADMIN_URL: w.adminUrl }, 60_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`primary ${w.proxy.child.pid}`);
  expect(r.stdout).toMatch(/changed settings: .*stats/);
  expect(r.stdout).toContain('warning: admin changed: stop and start cutover to apply it');
  const after = await w.status();
  expect(after.windowSeconds).toBe(20);
  const pids = (s: { workers: Array<{ pid: number; state: string }> }) => s.workers.filter((x) => x.state === 'serving').map((x) => x.pid);
  expect(pids(after).some((p) => pids(before).includes(p))).toBe(false);
}, 90_000);

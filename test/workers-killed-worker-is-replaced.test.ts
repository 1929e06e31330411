// workers: 2: a worker killed with SIGKILL is replaced (logged, counted), and requests keep being
// served meanwhile by the other one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from './helpers/servers.js';
import { onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
beforeAll(async () => {
  w = await startWorkers();
}, 60_000);
afterAll(async () => w?.close());

it('replaces a worker killed with SIGKILL and keeps serving', async () => {
  const pids = ((await w.status()).workers as Array<{ pid: number }>).map((x) => x.pid);
  expect(pids).toHaveLength(2);
  process.kill(pids[0], 'SIGKILL');
  // The primary learns of it at once and hands new connections to the survivor.
  await waitFor(() => w.proxy.lines.some((l) => l.includes('worker died: replacing it')), 5000, 'the death noticed');
  for (let i = 0; i < 20; i++) expect((await onNewConnection(`${w.proxy.url}/k${i}`)).status).toBe(200);
  await waitFor(
    async () => {
      const now = ((await w.status()).workers as Array<{ pid: number; state: string }>).filter((x) => x.state === 'serving');
      return now.length === 2 && !now.some((x) => x.pid === pids[0]) && now.some((x) => x.pid === pids[1]);
    },
    30_000,
    'a replacement serving',
  );
  for (let i = 0; i < 20; i++) expect((await onNewConnection(`${w.proxy.url}/r${i}`)).status).toBe(200);
  const metrics = await (await fetch(`${w.adminUrl}/metrics`)).text();
  expect(metrics).toContain('cutover_worker_replacements_total{reason="SIGKILL"} 1');
  expect(w.proxy.child.exitCode).toBe(null); // the primary, same process
}, 90_000);

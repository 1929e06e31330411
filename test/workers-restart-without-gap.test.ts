// workers: 2: SIGUSR2 to the primary under a paced load (keep-alive and new connections) replaces
// both workers without refusing or resetting a connection: every request gets a 200, the primary
// keeps its PID, and new workers (new PIDs) serve the requests after it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from './helpers/servers.js';
import { pacedLoad, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
beforeAll(async () => {
  w = await startWorkers({ routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 20 }] });
}, 60_000);
afterAll(async () => w?.close());

type WorkerRow = { pid: number; state: string; served: { legacy: number; candidate: number } };

it('SIGUSR2 under load: 0 refused, 0 reset, same primary, new workers serving', async () => {
  const old = ((await w.status()).workers as WorkerRow[]).map((x) => x.pid);
  const load = pacedLoad(w.proxy.url, { rate: 200, newEvery: 4, maxSeconds: 60 });
  await new Promise((r) => setTimeout(r, 1000));
  const primary = w.proxy.child.pid!;
  process.kill(primary, 'SIGUSR2');
  // The new workers listen, then the old ones drain and exit.
  await waitFor(() => w.proxy.lines.some((l) => l.includes('restart: old workers drained and stopped')), 45_000, 'the restart to finish');
  await new Promise((r) => setTimeout(r, 1000)); // the new workers alone serve for a while
  const out = await load.stop();

  expect(out.errors).toEqual({});
  expect(out.statuses).toEqual({ 200: out.sent });
  expect(out.sent).toBeGreaterThan(400);
  expect(w.proxy.child.exitCode).toBe(null);
  const now = (await w.status()).workers as WorkerRow[];
  expect(now.map((x) => x.state)).toEqual(['serving', 'serving']);
  for (const x of now) {
    expect(old).not.toContain(x.pid);
    expect(x.served.legacy + x.served.candidate).toBeGreaterThan(0);
  }
  for (const pid of old) expect(() => process.kill(pid, 0)).toThrow();
  // The split survived the restart: the primary owns it.
  expect((await w.status()).routes[0].candidatePercent).toBe(20);
}, 120_000);

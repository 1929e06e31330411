// A ramp with workers: 2: the primary (which serves nothing itself) takes the steps, judging each
// hold on the workers' traffic added up, and the workers serve every step.
import { expect, it } from 'vitest';
import { admin, waitFor } from './helpers/servers.js';
import { rampGuard, traffic } from './helpers/ramp.js';
import { startWorkers } from './helpers/workers.js';

it('the primary ramps 10 → 50 → 100 on the workers\' merged evidence', async () => {
  const w = await startWorkers({
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds: 1 } }],
    guard: rampGuard,
  });
  const load = traffic(w.proxy.url, 8);
  try {
    const started = await admin(w.adminUrl, 'POST', '/api/v1/ramp/start', { reason: 'test' });
    expect(started.status).toBe(200);
    expect(started.body.routes.default).toMatchObject({ state: 'running', step: 1, candidatePercent: 10 });
    await waitFor(async () => (await admin(w.adminUrl, 'GET', '/api/v1/ramp')).body.routes.default.state === 'done', 60_000, 'the ramp to finish');
    const history = (await admin(w.adminUrl, 'GET', '/api/v1/history')).body.history as Array<{ kind: string; route?: string; to: unknown; source: string }>;
    const steps = history.filter((c) => c.kind === 'split' && c.route === 'default').reverse();
    expect(steps.map((c) => c.to)).toEqual([10, 50, 100]);
    expect(steps.slice(1).every((c) => c.source === 'ramp')).toBe(true);
    // Both workers served the candidate by the end.
    const status = await w.status();
    for (const x of status.workers as Array<{ served: { candidate: number } }>) expect(x.served.candidate).toBeGreaterThan(0);
  } finally {
    await load.stop();
    await w.close();
  }
}, 90_000);

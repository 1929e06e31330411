// A healthy candidate under traffic is ramped 10 → 50 → 100: each step waits for its hold and for
// conclusive healthy evidence over the hold, then the ramp ends done.
import { expect, it } from 'vitest';
import { admin, startTwoBackendProxy, waitFor } from './helpers/servers.js';
import { rampGuard, traffic } from './helpers/ramp.js';

it('steps 10 → 50 → 100, each after its hold, and ends done', async () => {
  const holdSeconds = 1;
  const t = await startTwoBackendProxy(
    [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds } }],
    { rampIntervalMs: 50 },
    { guard: rampGuard },
  );
  const load = traffic(t.proxy.url);
  try {
    const started = await admin(t.proxy.admin, 'POST', '/api/v1/ramp/start', { reason: 'test' });
    expect(started.status).toBe(200);
    expect(started.body.routes.default).toMatchObject({ state: 'running', step: 1, candidatePercent: 10, nextPercent: 50 });
    await waitFor(() => t.proxy.app.control.ramp('default')?.status === 'done', 60_000, 'the ramp to finish');
    const steps = t.proxy.app.control
      .history()
      .filter((c) => c.kind === 'split' && c.route === 'default')
      .reverse();
    expect(steps.map((c) => c.to)).toEqual([10, 50, 100]);
    expect(steps.slice(1).every((c) => c.source === 'ramp')).toBe(true);
    // Each hold was respected: a step comes at least holdSeconds after the one before.
    for (let i = 1; i < steps.length; i++) expect(Date.parse(steps[i].time) - Date.parse(steps[i - 1].time)).toBeGreaterThanOrEqual(holdSeconds * 1000);
    const done = t.proxy.app.control.history().find((c) => c.kind === 'ramp' && c.event === 'ramp-ended');
    expect(done?.reason).toContain('the last step (100 %) held with healthy evidence');
    expect(t.proxy.app.control.percent('default')).toBe(100);
    expect(t.proxy.app.control.latch('default')).toBeUndefined();
  } finally {
    await load.stop();
    await t.close();
  }
}, 90_000);

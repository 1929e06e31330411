// Without traffic a ramp holds at its first step: past its hold it is neither passed nor failed,
// and its status says how much evidence is missing.
import { expect, it } from 'vitest';
import { admin, startTwoBackendProxy, waitFor } from './helpers/servers.js';
import { rampGuard } from './helpers/ramp.js';

it('holds at the first step, saying what evidence it lacks', async () => {
  const t = await startTwoBackendProxy(
    [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds: 1 } }],
    { rampIntervalMs: 50 },
    { guard: rampGuard },
  );
  try {
    await admin(t.proxy.admin, 'POST', '/api/v1/ramp/start');
    // The hold is over and the ramp has looked at it since: it waits for evidence, not for time.
    await waitFor(async () => (await admin(t.proxy.admin, 'GET', '/api/v1/ramp')).body.routes.default.waitingFor === 'evidence', 10_000, 'the hold to end');
    const { body } = await admin(t.proxy.admin, 'GET', '/api/v1/ramp');
    expect(body.routes.default).toMatchObject({ state: 'running', step: 1, candidatePercent: 10, nextPercent: 50, holdLeftSeconds: 0 });
    expect(body.routes.default.message).toMatch(/needs ~59 more candidate requests without an error \(0 of 0 so far\)/);
    expect(body.routes.default.evidence.requests).toEqual({ candidate: 0, legacy: 0 });
    expect(t.proxy.app.control.percent('default')).toBe(10);
    expect(t.proxy.app.control.latch('default')).toBeUndefined();
  } finally {
    await t.close();
  }
}, 30_000);

// A candidate that starts failing in the middle of a ramp is reverted by the guard: the ramp ends
// failed with the evidence and takes no further step.
import { expect, it } from 'vitest';
import { admin, startBackend, startProxy, testConfig, waitFor, type TestBackend } from './helpers/servers.js';
import { rampGuard, traffic } from './helpers/ramp.js';

it('reverts at the second step and the ramp goes no further', async () => {
  let failing = false;
  const legacy = await startBackend((req, res) => (req.resume(), res.end('legacy')));
  const candidate: TestBackend = await startBackend((req, res) => {
    req.resume();
    res.statusCode = failing ? 500 : 200;
    res.end('candidate');
  });
  const proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50, 100], holdSeconds: 1 } }],
      guard: rampGuard,
    }),
    { rampIntervalMs: 50 },
  );
  const load = traffic(proxy.url);
  try {
    await admin(proxy.admin, 'POST', '/api/v1/ramp/start');
    await waitFor(() => proxy.app.control.ramp('default')?.step === 1, 30_000, 'the second step');
    failing = true;
    await waitFor(() => proxy.app.control.ramp('default')?.status === 'failed', 30_000, 'the ramp to fail');
    expect(proxy.app.control.percent('default')).toBe(0);
    expect(proxy.app.control.latch('default')?.rule).toBe('maxErrorRate');
    const ramp = proxy.app.control.ramp('default')!;
    expect(ramp.steps[ramp.step]).toBe(50);
    expect(ramp.evidence).toMatchObject({ rules: expect.arrayContaining([expect.objectContaining({ rule: 'maxErrorRate', outcome: 'breach' })]) });
    // No further step, and no way back in without a re-arm.
    const resumed = await admin(proxy.admin, 'POST', '/api/v1/ramp/resume');
    expect(resumed.status).toBe(409);
    expect(resumed.body.error.code).toBe('ramp_not_running');
    const status = await admin(proxy.admin, 'GET', '/api/v1/ramp');
    expect(status.body.routes.default).toMatchObject({ state: 'failed', candidatePercent: 0, nextPercent: null });
    expect(proxy.app.control.history().filter((c) => c.kind === 'split' && c.to === 100)).toEqual([]);
  } finally {
    await load.stop();
    await proxy.close();
    await legacy.close();
    await candidate.close();
  }
}, 90_000);

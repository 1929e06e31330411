// `promote` from a given step is idempotent: the same call made twice (a retry, two operators at
// once) moves the ramp one step, not two. The CLI sends the step it saw.
import { expect, it } from 'vitest';
import { runCli } from './helpers/process.js';
import { admin, startTwoBackendProxy } from './helpers/servers.js';
import { rampGuard } from './helpers/ramp.js';

it('promotes once when the same promote from step 1 arrives twice, and the CLI does the same', async () => {
  const t = await startTwoBackendProxy(
    [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 25, 50, 100], holdSeconds: 3600 } }],
    { rampIntervalMs: 50 },
    { guard: rampGuard },
  );
  try {
    await admin(t.proxy.admin, 'POST', '/api/v1/ramp/start', { route: 'default' });
    const first = await admin(t.proxy.admin, 'POST', '/api/v1/ramp/promote', { route: 'default', fromStep: 1 });
    const again = await admin(t.proxy.admin, 'POST', '/api/v1/ramp/promote', { route: 'default', fromStep: 1 });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(first.body.changes.length).toBeGreaterThan(0);
    expect(again.body.changes).toEqual([]);
    expect(t.proxy.app.control.percent('default')).toBe(25);
    // The CLI reads the step first: from 2 to 3, once.
    const cli = await runCli(['ramp', 'promote', '--route', 'default', '--admin', t.proxy.admin]);
    expect(cli.code).toBe(0);
    expect(t.proxy.app.control.percent('default')).toBe(50);
    // Without fromStep, promote still means "the next step now".
    await admin(t.proxy.admin, 'POST', '/api/v1/ramp/promote', { route: 'default' });
    expect(t.proxy.app.control.percent('default')).toBe(100);
  } finally {
    await t.close();
  }
}, 60_000);

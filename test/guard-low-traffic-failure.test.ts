// Low traffic: a candidate that fails every request at one candidate request a second is reverted
// with the default guard settings (no 50-request gate any more), and one failure is never enough.
import { expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, waitFor } from './helpers/servers.js';

it('reverts a candidate failing every request at low traffic, not on its first failure', async () => {
  const legacy = await startBackend((_req, res) => res.end('legacy'));
  const candidate = await startBackend((_req, res) => {
    res.statusCode = 500;
    res.end('broken');
  });
  const proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 20 }],
      guard: { enabled: true }, // the defaults: confidence 0.999, minRequests 5
    }),
  );
  try {
    const statuses: number[] = [];
    let revertedAfter: number | undefined;
    // 5 req/s, 20 % on the candidate: one failing request a second, for at most 30 s.
    for (let i = 0; i < 150 && revertedAfter === undefined; i++) {
      const r = await fetch(`${proxy.url}/x`);
      await r.text();
      statuses.push(r.status);
      const failures = statuses.filter((s) => s === 500).length;
      if (failures === 1) expect(proxy.app.control.latch('default')).toBeUndefined(); // one is never enough
      if (proxy.app.control.latch('default')) revertedAfter = failures;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(revertedAfter).toBeDefined();
    expect(revertedAfter).toBeGreaterThanOrEqual(3); // 2 of 2 is not conclusive at 99.9 %
    expect(revertedAfter).toBeLessThanOrEqual(10);
    const latch = proxy.app.control.latch('default')!;
    expect(latch.rule).toBe('maxErrorRate');
    expect(latch.reason).toMatch(/candidate error rate 100\.0 % \(\d+ of \d+ requests over \d+ s\); at 99\.9 % confidence at least/);
    await waitFor(async () => (await (await fetch(`${proxy.url}/y`)).text()) === 'legacy', 2000, 'legacy serving');
  } finally {
    await proxy.close();
    await legacy.close();
    await candidate.close();
  }
}, 45_000);

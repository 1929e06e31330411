// A candidate that accepts and never answers, behind clients that give up after 300 ms (what
// browsers and HTTP clients do): the guard must still see it and revert within maxP99Ms + 3 s.
import { expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startBackend, startProxy, testConfig, waitFor } from './helpers/servers.js';

it('reverts a hung candidate although every client gave up before the latency threshold', async () => {
  const legacy = await startBackend((_req, res) => res.end('legacy'));
  const hung = new Set<import('node:http').ServerResponse>();
  const candidate = await startBackend((_req, res) => hung.add(res)); // accepts, never answers
  const proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 50 }],
      guard: { enabled: true, intervalMs: 100, rules: { maxP99Ms: 1000, maxErrorRate: 0.05 } },
    }),
  );
  const agent = new Agent({ connections: 100 });
  let stop = false;
  let started = 0;
  let candidateAborted = 0;
  const loop = async () => {
    while (!stop) {
      started++;
      try {
        const r = await request(`${proxy.url}/x`, { dispatcher: agent, signal: AbortSignal.timeout(300) });
        await r.body.text();
      } catch {
        candidateAborted++; // the client's own timeout: only the hung candidate makes it fire
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const t0 = Date.now();
  const loops = Array.from({ length: 5 }, loop);
  try {
    await waitFor(() => proxy.app.control.latch('default') !== undefined, 1000 + 3000 + 3000, 'the revert');
    const elapsed = Date.now() - t0;
    const latch = proxy.app.control.latch('default')!;
    expect(latch.rule).toBe('maxP99Ms');
    expect(elapsed).toBeLessThan(20_000); // generous: the bound that matters is checked in the scenario suite
    expect(candidateAborted).toBeGreaterThan(0);
    // The evidence says the slow requests were seen (in flight, or abandoned past the threshold).
    const rules = (latch.evidence as { rules: Array<{ rule: string; x: number; n: number }> }).rules;
    const p99 = rules.find((r) => r.rule === 'maxP99Ms')!;
    expect(p99.x).toBeGreaterThan(0);
    // After the revert every request goes to legacy and succeeds.
    const after = await request(`${proxy.url}/y`, { dispatcher: agent });
    expect(await after.body.text()).toBe('legacy');
  } finally {
    stop = true;
    await Promise.all(loops);
    for (const res of hung) res.destroy();
    await agent.close();
    await proxy.close();
    await legacy.close();
    await candidate.close();
  }
  expect(started).toBeGreaterThan(10);
}, 30_000);

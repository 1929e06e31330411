// End to end, real backends under load: the candidate fails, the guard reverts; the operator fixes
// it, re-arms and sets the split 30 ms later, while requests that reached the candidate before the
// re-arm are still finishing with 500s. Those must not revert it again: after a re-arm only
// requests that started after it are judged. A candidate that still fails is reverted again.
import { expect, it } from 'vitest';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

async function scenario(fixed: boolean) {
  const state = { failing: false, fixed, held: 0, okAfterRearm: 0, rearmed: false };
  const legacy = await track(startBackend((_req, res) => res.end('legacy')));
  let n = 0;
  const candidate = await track(
    startBackend((_req, res) => {
      const fail = state.failing && !(state.rearmed && state.fixed);
      if (!fail) {
        if (state.rearmed) state.okAfterRearm++;
        return res.end('candidate');
      }
      res.statusCode = 500;
      // Every 4th failure answers late, so that it is still in flight at the revert and the re-arm.
      if (n++ % 4 !== 0) return res.end('boom');
      state.held++;
      setTimeout(() => {
        state.held--;
        res.end('boom');
      }, 800);
    }),
  );
  const routes = [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 50 }];
  const guard = { intervalMs: 100, windowSeconds: 10, fastWindowSeconds: 2, minRequests: 20, consecutive: 1, rules: { maxErrorRate: 0.05, maxP99Ms: null } };
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes, guard })));
  const http = await track(Promise.resolve(client()));
  let running = true;
  const load = Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      for (let k = 0; running; k++) await http.get(`${proxy.url}/x/${i}/${k}`);
    }),
  );
  const latched = () => proxy.app.control.latch('default') !== undefined;
  try {
    await waitFor(() => proxy.app.stats.route('default').candidate.cumulative(proxy.app.stats.clock()).counters.requests >= 200, 10_000, 'healthy history');
    state.failing = true;
    await waitFor(latched, 10_000, 'the first revert');
    expect(state.held).toBeGreaterThan(0); // failures from before the revert are still in flight
    await new Promise((r) => setTimeout(r, 30));
    expect((await admin(proxy.admin, 'POST', '/api/v1/guard/rearm', { reason: 'fixed' })).status).toBe(200);
    state.rearmed = true;
    expect((await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 50 })).status).toBe(200);
    if (fixed) {
      // Until the late failures have all been recorded, the candidate answered plenty, and the
      // guard has judged it several times since.
      await waitFor(() => state.held === 0 && state.okAfterRearm >= 300, 20_000, 'post-re-arm traffic');
      const seen = Date.now();
      await waitFor(async () => Date.parse((await admin(proxy.admin, 'GET', '/api/v1/guard')).body.routes.default.lastVerdict?.at ?? 0) > seen + 300, 10_000, 'later verdicts');
      expect(latched()).toBe(false);
      expect(proxy.app.control.percent('default')).toBe(50);
    } else {
      await waitFor(latched, 10_000, 'the second revert');
    }
    const history = (await admin(proxy.admin, 'GET', '/api/v1/history')).body.history;
    expect(history.filter((h: any) => h.kind === 'guard' && h.to === 'reverted').length).toBe(fixed ? 1 : 2);
  } finally {
    running = false;
    await load;
  }
}

it('a fixed candidate re-armed 30 ms after the revert is not reverted again on the failures from before', () => scenario(true));

it('a candidate still failing after the re-arm is reverted again', () => scenario(false));

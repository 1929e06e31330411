// End to end: real backends under load, the candidate goes bad, the guard reverts every request to
// legacy, persists the latch, tells a webhook, survives a restart, and re-arms on request.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App } from '../src/app.js';
import { createLogger } from '../src/log.js';
import { admin, client, startBackend, testConfig, track, waitFor } from './helpers/servers.js';

type Mode = 'ok' | 'errors' | 'slow';

async function setup(rules: Record<string, unknown>) {
  const state = { mode: 'ok' as Mode, firstFailureAt: 0, lastHitAt: 0 };
  const legacy = await track(startBackend((_req, res) => res.end('legacy')));
  const candidate = await track(
    startBackend((_req, res) => {
      state.lastHitAt = Date.now();
      if (state.mode === 'errors') {
        state.firstFailureAt ||= Date.now();
        res.statusCode = 500;
        return res.end('boom');
      }
      setTimeout(() => res.end('candidate'), state.mode === 'slow' ? 300 : 0);
    }),
  );
  const events: Array<Record<string, unknown>> = [];
  const hook = await track(
    startBackend((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        events.push(JSON.parse(body));
        res.end();
      });
    }),
  );
  const deadHook = await track(startBackend(() => {})); // never answers: must not slow anything down
  const dir = mkdtempSync(join(tmpdir(), 'cutover-guard-'));
  const config = testConfig([legacy.url], [candidate.url], {
    state: { file: join(dir, 'state.json') },
    routes: [
      { name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 20 },
      { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 20 },
    ],
    guard: { intervalMs: 200, windowSeconds: 10, fastWindowSeconds: 2, minRequests: 20, consecutive: 2, rules, webhooks: [`${hook.url}/hook`, `${deadHook.url}/hook`] },
  });
  /** A proxy on this config (and its state file), closed when the test ends unless the test closed it. */
  const start = () =>
    track(
      (async () => {
        const app = new App({ config, logger: createLogger('silent') });
        await app.start();
        return { app, url: `http://127.0.0.1:${app.proxyAddress!.port}`, admin: `http://127.0.0.1:${app.adminAddress!.port}`, close: () => app.close(1000) };
      })(),
    );
  const first = await start();
  return { state, legacy, candidate, events, dir, start, first };
}

/** Keep 8 requests in flight until stopped; note when the first failure and the last candidate answer came. */
function load(url: string) {
  const http = client(); // closed by stop()
  const stats = { firstFailure: 0, lastCandidate: 0, total: 0 };
  let running = true;
  const worker = async (i: number) => {
    for (let n = 0; running; n++) {
      const r = await http.get(`${url}/${n % 2 ? 'api' : 'web'}/${i}`);
      stats.total++;
      if (r.status >= 500 && stats.firstFailure === 0) stats.firstFailure = Date.now();
      if (r.headers['x-cutover-backend'] === 'candidate') stats.lastCandidate = Date.now();
    }
  };
  const workers = Promise.all(Array.from({ length: 8 }, (_, i) => worker(i)));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      running = false;
      try {
        await workers;
      } finally {
        await http.close();
      }
    })());
  // close(): for track(), so that a test that fails before stop() leaves no load running.
  return { stats, stop, close: stop };
}

describe('guard end to end', () => {
  it('reverts on 500s under load, keeps the candidate dark, persists, survives a restart and re-arms', async () => {
    const s = await setup({ maxErrorRate: 0.05 });
    let { app, url, admin: adminUrl } = s.first;
    const l = await track(load(url));
    await waitFor(() => s.candidate.hits >= 60, 10_000, 'healthy candidate traffic');
    expect(app.control.latch('default')).toBeUndefined();
    s.state.mode = 'errors';
    await waitFor(() => app.control.latch('default') !== undefined && app.control.latch('api') !== undefined, 10_000, 'the revert');
    const revertedAt = Date.now();
    // A request dispatched just before the revert may still be on its way to the candidate (the
    // backend runs in this process, on the same event loop): let those land first.
    await new Promise((r) => setTimeout(r, 300));
    const hitsAtRevert = s.candidate.hits;
    await new Promise((r) => setTimeout(r, 1000));
    await l.stop();

    // Nothing reached the candidate after the revert (the next request went to legacy).
    expect(s.candidate.hits).toBe(hitsAtRevert);
    expect(s.state.lastHitAt).toBeLessThanOrEqual(revertedAt + 300);
    expect(s.state.lastHitAt).toBeGreaterThanOrEqual(s.state.firstFailureAt);
    expect(l.stats.firstFailure).toBeGreaterThan(0);
    expect(app.control.percent('default')).toBe(0);
    expect(app.control.percent('api')).toBe(0);

    // The record says exactly what was seen.
    const latch = app.control.latch('default')!;
    expect(latch.rule).toBe('maxErrorRate');
    const g = (await admin(adminUrl, 'GET', '/api/v1/guard')).body;
    expect(g.routes.default.state).toBe('reverted');
    expect(g.routes.default.latch.evidence.thresholds.maxErrorRate).toBe(0.05);
    expect(g.routes.default.secondsSinceChange).toBeGreaterThanOrEqual(0);
    const history = (await admin(adminUrl, 'GET', '/api/v1/history')).body.history;
    expect(history.some((h: any) => h.source === 'guard' && h.kind === 'split' && h.to === 0)).toBe(true);
    expect(history.some((h: any) => h.source === 'guard' && h.to === 'reverted')).toBe(true);
    const metrics = (await admin(adminUrl, 'GET', '/metrics')).body as string;
    expect(metrics).toMatch(/cutover_guard_reverts_total\{route="default",rule="maxErrorRate"\} 1/);
    expect(metrics).toMatch(/cutover_guard_state\{route="default",state="reverted"\} 1/);

    // The webhook receiver got the revert, despite the other receiver hanging.
    await waitFor(() => s.events.some((e) => e.type === 'reverted'), 5000, 'the webhook');
    const event = s.events.find((e) => e.type === 'reverted')!;
    expect(event).toMatchObject({ rule: 'maxErrorRate', scope: 'all' });
    expect((event.routes as string[]).sort()).toEqual(['api', 'default']);

    // The state file says reverted, and a restart stays reverted.
    const onDisk = JSON.parse(readFileSync(join(s.dir, 'state.json'), 'utf8'));
    expect(onDisk.guard.default).toMatchObject({ state: 'reverted', rule: 'maxErrorRate' });
    expect(onDisk.routes.default.candidatePercent).toBe(0);
    await app.close(1000);
    ({ app, url, admin: adminUrl } = await s.start());
    expect(app.control.latch('default')?.rule).toBe('maxErrorRate');
    expect(app.control.percent('default')).toBe(0);

    // Re-arm, then set a new split: traffic reaches the (fixed) candidate again.
    s.state.mode = 'ok';
    const rearm = await admin(adminUrl, 'POST', '/api/v1/guard/rearm', { reason: 'fixed the bug' });
    expect(rearm.status).toBe(200);
    expect(rearm.body.changes.map((c: any) => c.route).sort()).toEqual(['api', 'default']);
    expect(app.control.latch('default')).toBeUndefined();
    expect(app.control.percent('default')).toBe(0); // re-arming does not move traffic by itself
    await admin(adminUrl, 'PUT', '/api/v1/split', { candidatePercent: 100 });
    const http = await track(client());
    expect((await http.get(`${url}/x`)).body).toBe('candidate');
    await waitFor(() => s.events.some((e) => e.type === 'rearmed'), 5000, 'the rearm webhook');
  }, 30_000);

  it('reverts when the candidate becomes slow past maxP99Ms', async () => {
    const s = await setup({ maxErrorRate: 0.05, maxP99Ms: 150 });
    const { app, url } = s.first;
    const l = await track(load(url));
    await waitFor(() => s.candidate.hits >= 60, 10_000, 'healthy candidate traffic');
    s.state.mode = 'slow';
    await waitFor(() => app.control.latch('default') !== undefined, 15_000, 'the revert');
    await l.stop();
    const latch = app.control.latch('default')!;
    expect(latch.rule).toBe('maxP99Ms');
    expect(latch.reason).toMatch(/candidate p99 vs 150 ms: \d+ of \d+ requests slower .* at least [\d.]+ %, the p99 allows 1 %/);
    expect(app.control.percent('api')).toBe(0);
  }, 30_000);
});

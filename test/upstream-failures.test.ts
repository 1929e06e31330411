// What a client sees when upstream nodes refuse, reset or hang: a clear 502/504, never a hang.
import { describe, expect, it } from 'vitest';
import { client, deadPort, named, startBackend, startProxy, testConfig, type TestBackend, type TestProxy, track } from './helpers/servers.js';

describe('upstream failures', () => {
  it('keeps serving when one of two legacy nodes is down', async () => {
    const up = await track(named('legacy-a'));
    const down = await deadPort();
    const candidate = await track(named('candidate'));
    const proxy = await track(startProxy(testConfig([down, up.url], [candidate.url])));
    const http = await track(Promise.resolve(client()));
    for (let i = 0; i < 50; i++) {
      const r = await http.get(`${proxy.url}/x`);
      expect(r.status).toBe(200);
      expect(r.body).toBe('legacy-a');
    }
    // The dead node's refusals were retried on the other node, and after a few it was ejected.
    const node = proxy.app.table.clusters.legacy.health().find((n) => n.origin === down)!;
    expect(node.enforced).toBeGreaterThanOrEqual(1);
    expect(up.hits).toBe(50);
  });

  it('answers 502 with a JSON error when every node refuses, and counts it', async () => {
    const proxy = await track(startProxy(testConfig([await deadPort(), await deadPort()], [await deadPort()])));
    const http = await track(Promise.resolve(client()));
    const r = await http.get(`${proxy.url}/x`, { 'x-request-id': 'req-42' });
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(r.body)).toEqual({
      error: { code: 'upstream_refused', message: expect.stringMatching(/refused/), backend: 'legacy', requestId: 'req-42' },
    });
    const w = proxy.app.stats.routeSnapshot('default').legacy.window;
    expect(w.requests).toBe(1);
    expect(w.errors.refused).toBe(1);
    expect(w.errorRate).toBe(1);
  });

  it('answers 504 when no response headers come within responseMs', async () => {
    const slow = await track(startBackend(() => {})); // never answers
    const proxy = await track(
      startProxy(
        testConfig([slow.url], [slow.url], {
          backends: {
            legacy: { upstreams: [slow.url], timeouts: { responseMs: 300 } },
            candidate: { upstreams: [slow.url] },
          },
        }),
      ),
    );
    const http = await track(Promise.resolve(client()));
    const started = Date.now();
    const r = await http.get(`${proxy.url}/x`);
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error.code).toBe('upstream_timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(proxy.app.stats.routeSnapshot('default').legacy.window.errors.timeout).toBe(1);
  });

  it('answers 502 when the upstream resets the connection before responding', async () => {
    const rude = await track(startBackend((req) => req.socket.destroy()));
    const proxy = await track(startProxy(testConfig([rude.url], [rude.url])));
    const http = await track(Promise.resolve(client()));
    const r = await http.get(`${proxy.url}/x`);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe('upstream_reset');
    expect(proxy.app.stats.routeSnapshot('default').legacy.window.errors.reset).toBe(1);
  });

  it('answers 404 JSON when no route matches', async () => {
    const b = await track(named('b'));
    const proxy = await track(
      startProxy(testConfig([b.url], [b.url], { routes: [{ name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 0 }] })),
    );
    const http = await track(Promise.resolve(client()));
    const r = await http.get(`${proxy.url}/other`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.code).toBe('no_route');
  });
});

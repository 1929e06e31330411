// A request with two Host headers is the client's error (RFC 9112 3.2): 400, counted as cutover's
// own answer, never sent to a backend and never a backend error the guard could revert on.
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { admin, startBackend, startProxy, testConfig } from './helpers/servers.js';

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

it('answers 400 to 200 requests with two Host headers and reverts nothing', async () => {
  const legacy = await startBackend((_req, res) => res.end('legacy'));
  const candidate = await startBackend((_req, res) => res.end('candidate'));
  const proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 50 }],
      guard: { enabled: true, intervalMs: 50 },
    }),
  );
  const port = Number(new URL(proxy.url).port);
  try {
    for (let i = 0; i < 200; i++) {
      const answer = await raw(port, 'GET /x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('"code":"bad_host"');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(legacy.hits + candidate.hits).toBe(0);
    expect(proxy.app.control.latch('default')).toBeUndefined();
    const snap = proxy.app.stats.routeSnapshot('default');
    expect(snap.candidate.cumulative.requests + snap.legacy.cumulative.requests).toBe(0);
    const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
    expect(metrics).toContain('cutover_responses_total{route="(none)",backend="none",code_class="4xx",source="cutover",forced="false"} 200');
    // A normal request on the same proxy still works.
    expect(await (await fetch(`${proxy.url}/ok`)).text()).toMatch(/legacy|candidate/);
  } finally {
    await proxy.close();
    await legacy.close();
    await candidate.close();
  }
}, 30_000);

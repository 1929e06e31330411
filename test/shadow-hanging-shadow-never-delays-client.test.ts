// A shadow backend that never answers changes nothing for the client: every client request is
// answered in full by the primary while the copies still hang; past maxInFlight copies are dropped
// and counted.
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { admin, client, named, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

/** A candidate that takes every request and never answers: the shadow hangs. */
async function hangingCandidate() {
  const held: ServerResponse[] = [];
  const b = await startBackend((req, res) => {
    req.resume();
    held.push(res);
  });
  return Object.assign(b, { held });
}

it('answers 20 client GETs in full from legacy while their shadow copies hang', async () => {
  const legacy = await track(named('legacy'));
  const candidate = await hangingCandidate();
  const proxy = await track(
    startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100, timeoutMs: 60_000 } }] })),
  );
  await track(candidate); // closed first: the hanging copies end with it
  const http = await track(client());
  for (let i = 0; i < 20; i++) {
    const r = await http.get(`${proxy.url}/orders/${i}`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('legacy');
  }
  // Every copy reaches the candidate (the client did not wait for that), and none is answered.
  await waitFor(() => candidate.hits === 20, 5000, 'every copy at the candidate');
  expect(candidate.held.every((res) => !res.headersSent)).toBe(true);
  expect(candidate.held.map((res) => res.req.headers['x-cutover-shadow'])).toEqual(Array(20).fill('1'));
  const p = (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api;
  expect(p).toMatchObject({ compared: 0, dropped: 0, skipped: 0 });
  // Shutdown does not wait for them either: it closes while the candidate still hangs (their
  // timeout is a minute, past the test's own).
  await proxy.close();
  expect(candidate.held.every((res) => !res.headersSent)).toBe(true);
});

it('drops and counts the copies past maxInFlight while the shadow hangs', async () => {
  const legacy = await track(named('legacy'));
  const candidate = await hangingCandidate();
  const proxy = await track(
    startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100, maxInFlight: 2, timeoutMs: 60_000 } }] })),
  );
  await track(candidate);
  const http = await track(client());
  for (let i = 0; i < 5; i++) {
    const r = await http.get(`${proxy.url}/orders`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('legacy');
  }
  const p = (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api;
  expect(p.dropped).toBe(3);
  expect(p.compared).toBe(0);
  const scrape = await (await fetch(`${proxy.admin}/metrics`)).text();
  expect(scrape).toContain('cutover_shadow_requests_total{route="api",outcome="dropped"} 3');
});

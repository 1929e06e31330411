// methods [POST]: a request body within maxBodyBytes is teed to the shadow whole; one over it is
// not copied (counted as skipped) while the primary still gets every byte.
import { expect, it } from 'vitest';
import { request } from 'undici';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

const echo = (seen: Array<{ body: string; shadow: string | undefined }>) =>
  startBackend((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ body, shadow: req.headers['x-cutover-shadow'] as string | undefined });
      res.setHeader('content-type', 'text/plain');
      res.end(`got ${body.length}`);
    });
  });

it('skips the copy of a body over maxBodyBytes and still streams all of it to the primary', async () => {
  const atLegacy: Array<{ body: string; shadow: string | undefined }> = [];
  const atCandidate: Array<{ body: string; shadow: string | undefined }> = [];
  const legacy = await track(echo(atLegacy));
  const candidate = await track(echo(atCandidate));
  const proxy = await track(
    startProxy(testConfig([legacy.url], [candidate.url], { routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100, methods: ['POST'], maxBodyBytes: 1024 } }] })),
  );
  const http = await track(client());

  // Within the limit: both get the same body; the copy carries the shadow header.
  const small = await request(`${proxy.url}/orders`, { method: 'POST', body: 's'.repeat(1000), dispatcher: http.agent });
  expect(await small.body.text()).toBe('got 1000');
  await waitFor(() => atCandidate.length === 1, 5000, 'the copy at the candidate');
  expect(atCandidate[0]).toEqual({ body: 's'.repeat(1000), shadow: '1' });
  expect(atLegacy[0]).toEqual({ body: 's'.repeat(1000), shadow: undefined });

  // Over it, sent in chunks: the primary gets all 256 KiB; the shadow gets nothing.
  const big = 'b'.repeat(256 * 1024);
  async function* chunks() {
    for (let i = 0; i < big.length; i += 16 * 1024) yield Buffer.from(big.slice(i, i + 16 * 1024));
  }
  const r = await request(`${proxy.url}/orders`, { method: 'POST', body: chunks(), dispatcher: http.agent });
  expect(r.statusCode).toBe(200);
  expect(await r.body.text()).toBe(`got ${big.length}`);
  expect(atLegacy[1].body).toBe(big);
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api.skipped === 1, 5000, 'the copy counted as skipped');
  expect(candidate.hits).toBe(1);
  const p = (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.api;
  expect(p).toMatchObject({ compared: 1, matched: 1, skipped: 1, dropped: 0 });
});

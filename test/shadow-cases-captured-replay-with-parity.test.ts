// GET /api/v1/parity/cases: the last sampled shadowed requests as a cases file, redacted
// (authorization, cookie, the route's redact list), which `cutover parity --cases` replays as is.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/process.js';
import { admin, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

/** Orders; the candidate computes /orders/1's total differently. Searches echo the body's customer. */
const orders = (candidate: boolean) => (req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/orders/1') return res.end(JSON.stringify({ id: 1, total: candidate ? 41.5 : 42 }));
    if (req.url === '/orders/search') return res.end(JSON.stringify({ customer: JSON.parse(Buffer.concat(chunks).toString()).customer }));
    res.end(JSON.stringify({ bytes: Buffer.concat(chunks).length }));
  });
};

it('captures redacted cases that cutover parity replays', async () => {
  const legacy = await track(startBackend(orders(false)));
  const candidate = await track(startBackend(orders(true)));
  const routes = [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 100, methods: ['GET', 'POST'], redact: ['/card', 'x-api-key'] } }];
  const proxy = await track(startProxy(testConfig([legacy.url], [candidate.url], { routes })));
  const secret = { authorization: 'Bearer s3cret', cookie: 'sid=s3cret', 'x-api-key': 's3cret', accept: 'application/json' };
  await fetch(`${proxy.url}/orders/1`, { headers: secret }).then((r) => r.text());
  await fetch(`${proxy.url}/orders/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customer: 7, card: '4111111111111111' }) }).then((r) => r.text());
  await fetch(`${proxy.url}/upload`, { method: 'POST', body: Buffer.from([0xff, 0x00, 0xfe]) }).then((r) => r.text());
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/parity')).body.routes.orders.compared === 3, 5000, 'three compared');

  const res = await fetch(`${proxy.admin}/api/v1/parity/cases?route=orders`);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const text = await res.text();
  expect(text).not.toContain('s3cret');
  expect(text).not.toContain('4111');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatchObject({ name: 'orders #1: GET /orders/:id', method: 'GET', path: '/orders/1' });
  expect(lines[0].headers).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' });
  expect(lines[0].headers.host).toBeUndefined();
  expect(JSON.parse(lines[1].body)).toEqual({ customer: 7, card: '[redacted]' });
  expect(lines[2]).toMatchObject({ method: 'POST', path: '/upload', bodyBase64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') });
  expect((await fetch(`${proxy.admin}/api/v1/parity/cases?limit=1`).then((r) => r.text())).trim().split('\n')).toHaveLength(1);
  expect((await admin(proxy.admin, 'GET', '/api/v1/parity/cases?route=nope')).body.error.code).toBe('unknown_route');
  expect((await admin(proxy.admin, 'GET', '/api/v1/parity/cases?limit=0')).body.error).toMatchObject({ code: 'bad_request', field: 'limit' });

  // The captured file replays: /orders/1's wrong total is the one mismatch.
  const dir = mkdtempSync(join(tmpdir(), 'cutover-cases-'));
  const config = writeConfig({ backends: { legacy: { upstreams: [legacy.url] }, candidate: { upstreams: [candidate.url] } }, routes }, dir);
  writeFileSync(join(dir, 'cases.jsonl'), text);
  const run = await runCli(['parity', '--cases', join(dir, 'cases.jsonl'), '--config', config]);
  expect(run.stdout).toContain('MISMATCH orders #1: GET /orders/:id (GET /orders/1)');
  expect(run.stdout).toContain('/total: legacy 42, candidate 41.5');
  expect(run.stdout).toContain('parity: 3 cases, 2 matched, 1 mismatched, 0 errors');
  expect(run.code).toBe(1);
});

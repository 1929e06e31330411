// workers: 2: a config reload (POST /api/v1/config/reload, as SIGHUP) is read by the primary and
// applied in every worker: a route added to the file is served by both workers at once.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin } from './helpers/servers.js';
import { onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
let file: string;
beforeAll(async () => {
  w = await startWorkers();
  file = w.proxy.child.spawnargs[w.proxy.child.spawnargs.indexOf('--config') + 1];
}, 60_000);
afterAll(async () => w?.close());

it('applies a reloaded config in both workers', async () => {
  expect((await onNewConnection(`${w.proxy.url}/new/x`)).body).toBe('legacy');
  writeFileSync(
    file,
    stringify({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      backends: { legacy: { upstreams: [w.legacy.url] }, candidate: { upstreams: [w.candidate.url] } },
      routes: [
        { name: 'new', match: { pathPrefix: '/new/' }, candidatePercent: 100 },
        { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 },
      ],
      guard: { enabled: false },
      workers: 2,
    }),
  );
  const r = await admin(w.adminUrl, 'POST', '/api/v1/config/reload', { reason: 'add a route' });
  expect(r.status).toBe(200);
  expect(r.body.routesAdded).toEqual(['new']);
  expect(r.body.warnings).toEqual([]);
  for (let i = 0; i < 40; i++) expect((await onNewConnection(`${w.proxy.url}/new/${i}`)).body).toBe('candidate');
  const workers = (await w.status()).workers as Array<{ served: { candidate: number } }>;
  for (const x of workers) expect(x.served.candidate).toBeGreaterThan(0);
  const status = await w.status();
  expect(status.routes.map((x: { name: string; candidatePercent: number }) => [x.name, x.candidatePercent])).toEqual([
    ['new', 100],
    ['default', 0],
  ]);
}, 60_000);

// PUT /api/v1/shadow changes a route's shadow share for the next requests, is recorded in the
// history, is persisted in the state file, and a restart keeps it over the config's percent.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { admin, client, named, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('changes the share at run time and keeps it across a restart', async () => {
  const legacy = await track(named('legacy'));
  const candidate = await track(named('candidate'));
  const file = join(mkdtempSync(join(tmpdir(), 'cutover-shadow-share-')), 'state.json');
  const config = testConfig([legacy.url], [candidate.url], {
    state: { file },
    routes: [{ name: 'api', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 0 } }],
  });
  const http = await track(client());
  const send = async (url: string, n: number) => {
    for (let i = 0; i < n; i++) expect((await http.get(`${url}/x`)).body).toBe('legacy');
  };

  const first = await track(startProxy(config));
  await send(first.url, 3);
  expect(candidate.hits).toBe(0); // the config's 0 %: nothing copied

  const put = await admin(first.admin, 'PUT', '/api/v1/shadow', { route: 'api', percent: 100, reason: 'compare' });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ persisted: true, routes: { api: 100 }, changes: [{ kind: 'shadow', route: 'api', from: 0, to: 100, reason: 'compare' }] });
  await send(first.url, 3);
  await waitFor(() => candidate.hits === 3, 5000, 'the next three requests copied');
  expect(JSON.parse(readFileSync(file, 'utf8')).routes.api).toEqual({ candidatePercent: 0, shadowPercent: 100 });
  const history = (await admin(first.admin, 'GET', '/api/v1/history')).body;
  expect(JSON.stringify(history)).toContain('"kind":"shadow"');
  await first.close();

  // Restarted from the same config (shadow.percent 0) and state file: the share set at run time stays.
  const second = await track(startProxy(config));
  expect((await admin(second.admin, 'GET', '/api/v1/shadow')).body).toEqual({ routes: { api: 100 } });
  await send(second.url, 2);
  await waitFor(() => candidate.hits === 5, 5000, 'copied after the restart');

  // A fractional share samples exactly that share of the next requests.
  expect((await admin(second.admin, 'PUT', '/api/v1/shadow', { route: 'api', percent: 50 })).status).toBe(200);
  await send(second.url, 4);
  // (This process's figures: the two copies after the restart, then two of the four.)
  await waitFor(async () => (await admin(second.admin, 'GET', '/api/v1/parity')).body.routes.api.compared === 4, 5000, 'four compared');
  expect(candidate.hits).toBe(7);
});

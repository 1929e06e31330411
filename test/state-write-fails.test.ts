// The state file cannot be written (its folder replaced by a regular file, which fails even for
// root): a raise is refused and undone, a rollback applies at once and is answered "not
// persisted", and the file is written as soon as the folder is back, without any new change.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { admin, client, named, startProxy, testConfig, waitFor } from './helpers/servers.js';

/** Backends, a proxy whose state file lives in its own folder, and a client; closed by `close`. */
async function setup(routes: unknown[]) {
  const stateDir = join(mkdtempSync(join(tmpdir(), 'cutover-state-fails-')), 'state');
  const file = join(stateDir, 'state.json');
  const legacy = await named('legacy');
  const candidate = await named('candidate');
  const proxy = await startProxy(testConfig([legacy.url], [candidate.url], { state: { file }, routes }));
  const http = client();
  return {
    proxy,
    file,
    http,
    /** Replace the folder by a regular file: mkdir and open fail (EEXIST / ENOTDIR), as root too. */
    breakStore() {
      rmSync(stateDir, { recursive: true, force: true });
      writeFileSync(stateDir, 'not a folder');
    },
    repairStore() {
      rmSync(stateDir, { force: true });
      mkdirSync(stateDir);
    },
    async backends(path: string, n = 20) {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) seen.add((await http.get(proxy.url + path)).body);
      return [...seen];
    },
    /** Wait until status says every change is on disk again. */
    async saved() {
      await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/status')).body.state.persisted === true, 20_000, 'the state file written again');
    },
    async metric(name: string) {
      const text = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    },
    async close() {
      await http.close();
      await proxy.close();
      await legacy.close();
      await candidate.close();
    },
  };
}

it('refuses a raise it cannot save with 503 store_unavailable, and changes nothing', async () => {
  const t = await setup([
    { name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 50 },
    { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 },
  ]);
  try {
    t.breakStore();
    const one = await admin(t.proxy.admin, 'PUT', '/api/v1/split', { route: 'default', candidatePercent: 100, reason: 'ramp' });
    expect(one.status).toBe(503);
    expect(one.body.error.code).toBe('store_unavailable');
    expect(one.body.error.message).toContain(`cannot write the state file ${t.file}`);
    // Lowers api, raises default: one request is all or nothing, so api stays at 50 too.
    const mixed = await admin(t.proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 20 });
    expect(mixed.status).toBe(503);
    expect((await admin(t.proxy.admin, 'POST', '/api/v1/promote', {})).status).toBe(503);

    const status = (await admin(t.proxy.admin, 'GET', '/api/v1/status')).body;
    expect(status.routes.map((r: any) => [r.name, r.candidatePercent])).toEqual([
      ['api', 50],
      ['default', 0],
    ]);
    expect(status.state).toMatchObject({ file: t.file, persisted: false });
    expect(status.state.lastError).toMatch(/EEXIST|ENOTDIR/);
    expect(await t.backends('/x')).toEqual(['legacy']);
    expect(await t.metric('cutover_state_write_failures_total')).toBeGreaterThanOrEqual(3);
    expect(await t.metric('cutover_state_persisted')).toBe(0);
    const history = (await admin(t.proxy.admin, 'GET', '/api/v1/history')).body.history;
    expect(history[0].reason).toMatch(/^undone: cannot write the state file/);

    // Once the folder is back, what the file holds is what was in effect all along.
    t.repairStore();
    await t.saved();
    const onDisk = JSON.parse(readFileSync(t.file, 'utf8'));
    expect(onDisk.routes).toEqual({ api: { candidatePercent: 50 }, default: { candidatePercent: 0 } });
  } finally {
    await t.close();
  }
}, 30_000);

it('applies a rollback it cannot save, answers 202 not persisted, and saves it once the store is back', async () => {
  const t = await setup([{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }]);
  try {
    expect(await t.backends('/x')).toEqual(['candidate']);
    t.breakStore();
    const rb = await admin(t.proxy.admin, 'POST', '/api/v1/rollback', { reason: 'errors on candidate' });
    expect(rb.status).toBe(202);
    expect(rb.body).toMatchObject({ persisted: false, routes: { default: 0 } });
    expect(rb.body.stateError).toContain(`cannot write the state file ${t.file}`);
    expect(await t.backends('/x')).toEqual(['legacy']);
    expect((await admin(t.proxy.admin, 'GET', '/api/v1/status')).body.state.persisted).toBe(false);
    expect(await t.metric('cutover_state_write_failures_total')).toBeGreaterThanOrEqual(1);
    expect(await t.metric('cutover_state_persisted')).toBe(0);

    t.repairStore(); // and no new change: the retry alone writes it
    await t.saved();
    const onDisk = JSON.parse(readFileSync(t.file, 'utf8'));
    expect(onDisk.routes).toEqual({ default: { candidatePercent: 0 } });
    expect(onDisk.history.find((c: any) => c.kind === 'split')).toMatchObject({ to: 0, reason: 'errors on candidate' });
    expect((await admin(t.proxy.admin, 'GET', '/api/v1/status')).body.state).toMatchObject({ persisted: true, lastError: null });
    expect(await t.metric('cutover_state_persisted')).toBe(1);
  } finally {
    await t.close();
  }
}, 30_000);

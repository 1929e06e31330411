// Control state survives restarts: a rollback stays rolled back; a corrupt file starts safe.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App } from '../src/app.js';
import { createLogger } from '../src/log.js';
import { admin, named, testConfig } from './helpers/servers.js';

async function withBackends<T>(fn: (legacy: string, candidate: string) => Promise<T>): Promise<T> {
  const l = await named('legacy');
  const c = await named('candidate');
  try {
    return await fn(l.url, c.url);
  } finally {
    await l.close();
    await c.close();
  }
}

function config(legacy: string, candidate: string, stateFile: string) {
  return testConfig([legacy], [candidate], {
    state: { file: stateFile },
    routes: [
      { name: 'api', match: { pathPrefix: '/api' }, candidatePercent: 50 },
      { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 },
    ],
  });
}

async function start(cfg: ReturnType<typeof testConfig>, resetState = false) {
  const app = new App({ config: cfg, logger: createLogger('silent'), resetState });
  await app.start();
  return { app, admin: `http://127.0.0.1:${app.adminAddress!.port}` };
}

describe('state file', () => {
  it('keeps a rollback across a restart, and says the state file won', () =>
    withBackends(async (l, c) => {
      const dir = mkdtempSync(join(tmpdir(), 'cutover-state-'));
      const file = join(dir, 'nested', 'state.json'); // missing parent folders are created
      const first = await start(config(l, c, file));
      expect((await admin(first.admin, 'POST', '/api/v1/rollback', { reason: 'errors' })).status).toBe(200);
      const onDisk = JSON.parse(readFileSync(file, 'utf8'));
      expect(onDisk.routes).toEqual({ api: { candidatePercent: 0 }, default: { candidatePercent: 0 } });
      await first.app.close(1000);

      const second = await start(config(l, c, file));
      const status = (await admin(second.admin, 'GET', '/api/v1/status')).body;
      expect(status.restoredFrom).toBe('state-file');
      expect(status.routes.map((r: any) => r.candidatePercent)).toEqual([0, 0]);
      const history = (await admin(second.admin, 'GET', '/api/v1/history')).body.history;
      expect(history[0]).toMatchObject({ kind: 'split', to: 0, reason: 'errors' });
      await second.app.close(1000);

      const reset = await start(config(l, c, file), true);
      expect(reset.app.control.percent('api')).toBe(50);
      expect(reset.app.control.restoredFrom).toBe('config');
      await reset.app.close(1000);
    }));

  it('writes atomically: no temp file is left behind', () =>
    withBackends(async (l, c) => {
      const dir = mkdtempSync(join(tmpdir(), 'cutover-state-'));
      const file = join(dir, 'state.json');
      const s = await start(config(l, c, file));
      for (let p = 1; p <= 20; p++) await admin(s.admin, 'PUT', '/api/v1/split', { candidatePercent: p });
      await s.app.close(1000);
      expect(readdirSync(dir)).toEqual(['state.json']);
      expect(JSON.parse(readFileSync(file, 'utf8')).routes.api.candidatePercent).toBe(20);
    }));

  it.each([
    ['not JSON', '{"version": 1, "routes": {'],
    ['wrong shape', JSON.stringify({ version: 1, routes: { api: { candidatePercent: 400 } }, maintenance: {} })],
  ])('a corrupt state file (%s) is moved aside and cutover starts safe at 0 %%', (_kind, content) =>
    withBackends(async (l, c) => {
      const dir = mkdtempSync(join(tmpdir(), 'cutover-state-'));
      const file = join(dir, 'state.json');
      writeFileSync(file, content);
      const s = await start(config(l, c, file));
      expect(s.app.control.restoredFrom).toBe('safe');
      expect(s.app.control.percent('api')).toBe(0);
      expect(s.app.control.percent('default')).toBe(0);
      const aside = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir, aside[0]), 'utf8')).toBe(content);
      expect(existsSync(file)).toBe(true); // a fresh, valid file replaces it
      const history = (await admin(s.admin, 'GET', '/api/v1/history')).body.history;
      expect(history[0].reason).toMatch(/state file unusable/);
      await s.app.close(1000);
    }));
});

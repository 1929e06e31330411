// The read-only token (admin.readOnlyTokenFile) sees everything the dashboard shows and can change
// nothing: the page hides its actions, and a write forced with that token gets 403.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from './helpers/browser.js';
import { admin, startTwoBackendProxy, track } from './helpers/servers.js';

const TOKEN = 'dashboard-admin-token';
const READER = 'dashboard-read-only-token';

it('shows no actions to the read-only token, and its forced write gets 403', async (ctx) => {
  if (!chromiumAvailable()) return ctx.skip();
  const dir = mkdtempSync(join(tmpdir(), 'cutover-readonly-'));
  writeFileSync(join(dir, 'reader.token'), `${READER}\n`);
  const env = await track(
    startTwoBackendProxy([{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 20 }], { adminToken: TOKEN }, {
      admin: { host: '127.0.0.1', port: 0, readOnlyTokenFile: join(dir, 'reader.token') },
    }),
  );
  const base = env.proxy.admin;

  // The API: reads pass, every write is refused with 403 (not 401: the token is known).
  expect((await admin(base, 'GET', '/api/v1/status', undefined, READER)).status).toBe(200);
  expect((await admin(base, 'GET', '/api/v1/history', undefined, READER)).status).toBe(200);
  for (const [method, path, body] of [
    ['PUT', '/api/v1/split', { candidatePercent: 50 }],
    ['POST', '/api/v1/rollback', { reason: 'x' }],
    ['POST', '/api/v1/maintenance', { enabled: true }],
    ['POST', '/api/maintenance-mode/enable', undefined],
  ] as const) {
    const r = await admin(base, method, path, body, READER);
    expect(r.status, path).toBe(403);
    expect(r.body.error.code).toBe('read_only');
  }

  const browser = await launchBrowser();
  const { page, errors } = await browser.page();
  await page.goto(`${base}/dashboard`);
  await page.fill('#token', READER);
  await page.click('#login-form button[type=submit]');
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  await expect(page.locator('#access').textContent()).resolves.toMatch(/read-only/);
  await page.locator('[data-split][data-percent="20"]').waitFor();
  // Everything is shown, no action is.
  expect(await page.locator('[data-route="default"] .guard, [data-route="default"] .ramp').count()).toBe(2);
  const visibleButtons = await page.locator('button:visible').evaluateAll((els) => els.map((e) => e.textContent));
  expect(visibleButtons).toEqual([]);

  // A write forced from the page with that token: 403, nothing changed.
  const forced = await page.evaluate(async (token) => {
    const res = await fetch('api/v1/split', { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-cutover-source': 'dashboard' }, body: JSON.stringify({ candidatePercent: 90 }) });
    return res.status;
  }, READER);
  expect(forced).toBe(403);
  expect(env.proxy.app.control.percent('default')).toBe(20);
  expect(env.proxy.app.control.maintenance.enabled).toBe(false);
  // The browser logs the first, token-less 401 and the forced 403 as failed loads; nothing else.
  expect(errors.filter((e) => !/status of (401|403)/.test(e))).toEqual([]);
}, 60_000);

// With an admin token, the page asks for it, keeps it in sessionStorage (not in the URL or a
// cookie) and sends it as a bearer header; a rollback made from the page, after its confirmation,
// goes through the admin API (same history entry, source "dashboard") and shows in the history.
import { expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from './helpers/browser.js';
import { admin, startTwoBackendProxy, track } from './helpers/servers.js';

const TOKEN = 'dashboard-admin-token';

it('rolls back from the page with the token entered, and the history shows it', async (ctx) => {
  if (!chromiumAvailable()) return ctx.skip();
  const env = await track(startTwoBackendProxy([{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 30 }], { adminToken: TOKEN }));
  const base = env.proxy.admin;
  // The page itself holds no secret; the API behind it does.
  expect((await fetch(`${base}/dashboard`)).status).toBe(200);
  expect((await fetch(`${base}/api/v1/events`)).status).toBe(401);

  const browser = await launchBrowser();
  const { page, errors } = await browser.page();
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(`${base}/dashboard`);
  await page.locator('#login').waitFor();
  await page.fill('#token', TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  await expect(page.locator('#access').textContent()).resolves.toMatch(/admin/);
  await page.locator('[data-split][data-percent="30"]').waitFor();

  await page.click('#rollback-all');
  await page.locator('#confirm').waitFor();
  // The reason is required: confirming without one does nothing.
  await page.click('#confirm-ok');
  expect(env.proxy.app.control.percent('default')).toBe(30);
  await page.fill('#confirm-reason', 'candidate looks slow from the page');
  await page.click('#confirm-ok');

  await page.locator('[data-split][data-percent="0"]').waitFor();
  await page.locator('#history li[data-source="dashboard"]', { hasText: 'candidate looks slow from the page' }).waitFor();
  expect(env.proxy.app.control.percent('default')).toBe(0);
  const history = (await admin(base, 'GET', '/api/v1/history', undefined, TOKEN)).body.history;
  expect(history[0]).toMatchObject({ kind: 'split', source: 'dashboard', from: 30, to: 0, reason: 'candidate looks slow from the page' });

  // The token went in a header only: no URL carried it, no cookie holds it, the tab's storage does.
  expect(urls.some((u) => u.includes(TOKEN))).toBe(false);
  expect(await page.context().cookies()).toEqual([]);
  expect(await page.evaluate(() => sessionStorage.getItem('cutover.adminToken'))).toBe(TOKEN);
  // The browser logs the first, token-less 401 as a failed load; nothing else.
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
}, 60_000);

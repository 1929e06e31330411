// The dashboard in a real browser: it loads with no console error under its strict CSP, shows the
// routes and their split, and a split changed through the API appears on the page within 2 s.
import { expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from './helpers/browser.js';
import { runCli } from './helpers/process.js';
import { admin, startTwoBackendProxy, track } from './helpers/servers.js';

const routes = [
  { name: 'users', match: { pathPrefix: '/users' }, candidatePercent: 10 },
  { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 },
];

it('shows the routes and the live split, and a split set through the API within 2 s', async (ctx) => {
  if (!chromiumAvailable()) return ctx.skip();
  const env = await track(startTwoBackendProxy(routes));
  const base = env.proxy.admin;

  const res = await fetch(`${base}/dashboard`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  const html = await res.text();
  // Nothing inline, nothing from elsewhere: every script and stylesheet is a relative URL.
  expect(html).not.toMatch(/<script>|<style|style=|\son[a-z]+=/i);
  expect(html.match(/(src|href)="([^"]+)"/g)?.every((a) => !/"(\/|https?:)/.test(a))).toBe(true);
  for (const asset of ['dashboard/app.js', 'dashboard/app.css', 'dashboard/uplot.js', 'dashboard/uplot.css']) {
    const a = await fetch(`${base}/${asset}`);
    expect(a.status, asset).toBe(200);
    expect(a.headers.get('x-frame-options'), asset).toBe('DENY');
  }

  // `cutover dashboard` prints the URL the browser opens.
  const cli = await runCli(['dashboard', '--admin', base]);
  expect(cli.code, cli.stderr).toBe(0);
  expect(cli.stdout.trim()).toBe(`${base}/dashboard`);

  const browser = await launchBrowser();
  const { page, errors } = await browser.page();
  await page.goto(cli.stdout.trim());
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  await expect.poll(() => page.locator('[data-route]').evaluateAll((els) => els.map((e) => e.getAttribute('data-route')))).toEqual(['users', 'default']);
  await page.locator('[data-route="users"] [data-split][data-percent="10"]').waitFor();
  await expect(page.locator('#access').textContent()).resolves.toMatch(/unauthenticated/);
  await expect(page.locator('#notice').isVisible()).resolves.toBe(true);

  const set = await admin(base, 'PUT', '/api/v1/split', { candidatePercent: 40, route: 'users', reason: 'from the test' });
  expect(set.status).toBe(200);
  // A bounded wait: the change is pushed as it happens; 2 s is the promise, not a speed test.
  await page.locator('[data-route="users"] [data-split][data-percent="40"]').waitFor({ timeout: 2000 });
  await expect(page.locator('[data-route="users"] [data-split]').textContent()).resolves.toMatch(/candidate 40 %.*legacy 60 %/);
  await page.locator('#history li', { hasText: 'from the test' }).waitFor({ timeout: 2000 });

  // Phone width: nothing wider than the screen.
  const phone = await browser.page({ width: 390, height: 844 });
  await phone.page.goto(`${base}/dashboard`);
  await phone.page.locator('#conn', { hasText: 'live' }).waitFor();
  await phone.page.locator('[data-route="users"] [data-split][data-percent="40"]').waitFor();
  expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  expect(errors).toEqual([]);
  expect(phone.errors).toEqual([]);
}, 60_000);

// The README's picture of the dashboard, taken from a real run: a ramp under way on one route
// (legacy ~20 ms, candidate ~8 ms and a few errors), the other at 100 %, the guard watching, and
// the scorecard's criteria at the top. Written to docs/dashboard.png (committed).
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from './helpers/browser.js';
import { admin, startBackend, startProxy, testConfig, track } from './helpers/servers.js';

const OUT = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));

it('takes the screenshot the README shows', async (ctx) => {
  if (!chromiumAvailable()) return ctx.skip();
  let n = 0;
  const legacy = await track(startBackend((req, res) => (req.resume(), setTimeout(() => res.end('legacy'), 15 + Math.random() * 10))));
  const candidate = await track(
    startBackend((req, res) => {
      req.resume();
      setTimeout(() => {
        res.statusCode = n++ % 150 === 0 ? 500 : 200;
        res.end('candidate');
      }, 5 + Math.random() * 6);
    }),
  );
  const config = testConfig([legacy.url], [candidate.url], {
    routes: [
      { name: 'checkout', match: { pathPrefix: '/checkout' }, candidatePercent: 0, ramp: { steps: [10, 25, 50, 100], holdSeconds: 60 } },
      { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 },
    ],
    guard: { enabled: true, windowSeconds: 30, minRequests: 30, rules: { maxErrorRate: 0.05, maxP99Ms: 250 } },
    report: { criteria: { p99Ratio: 0.8, maxErrorRate: 0.02 } },
  });
  const proxy = await track(startProxy(config));
  const started = await admin(proxy.admin, 'POST', '/api/v1/ramp/start', { route: 'checkout', reason: 'migration window opened' });
  expect(started.status).toBe(200);

  let stop = false;
  const load = Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      while (!stop) {
        await (await fetch(`${proxy.url}/${i % 2 === 0 ? 'checkout' : 'home'}`)).text();
        await new Promise((r) => setTimeout(r, 8));
      }
    }),
  );
  try {
    const browser = await launchBrowser();
    const { page, errors } = await browser.page({ width: 1280, height: 800 });
    await page.goto(`${proxy.admin}/dashboard`);
    await page.locator('#conn', { hasText: 'live' }).waitFor();
    // Let a few points of the series arrive, then take the picture.
    await page.waitForFunction(() => document.querySelectorAll('#history li').length >= 2);
    await new Promise((r) => setTimeout(r, 12_000));
    await page.screenshot({ path: OUT, fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    stop = true;
    await load;
  }
}, 90_000);

// The event stream survives a restart of cutover: the page notices the stream ended, says so,
// reconnects by itself with backoff, and shows the new process's state.
import { expect, it } from 'vitest';
import { chromiumAvailable, launchBrowser } from './helpers/browser.js';
import { named, startProxy, testConfig, track } from './helpers/servers.js';

it('reconnects after cutover restarts and shows the new state', async (ctx) => {
  if (!chromiumAvailable()) return ctx.skip();
  const legacy = await track(named('legacy'));
  const candidate = await track(named('candidate'));
  const config = (percent: number, port: number) =>
    testConfig([legacy.url], [candidate.url], { routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: percent }], admin: { host: '127.0.0.1', port } });

  const first = await startProxy(config(10, 0));
  let firstOpen = true;
  ctx.onTestFinished(async () => {
    if (firstOpen) await first.close();
  });
  const port = first.app.adminAddress!.port;

  const browser = await launchBrowser();
  const { page, errors } = await browser.page();
  await page.goto(`${first.admin}/dashboard`);
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  await page.locator('[data-split][data-percent="10"]').waitFor();

  await first.close();
  firstOpen = false;
  await page.locator('#conn', { hasText: 'reconnecting' }).waitFor({ timeout: 10_000 });

  // The same admin port, a new process with another split in its config.
  await track(startProxy(config(35, port)));
  await page.locator('[data-split][data-percent="35"]').waitFor({ timeout: 20_000 });
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  // Only the failed reconnect attempts while nothing listened may be logged.
  expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|network/i.test(e))).toEqual([]);
}, 60_000);

// The scorecard's parity section: per shadowed route the comparisons, the mismatch rate with its
// interval, the fields that differ most, and a verdict against report.criteria.maxMismatchRate
// that decides the answer like the other criteria. A route without a shadow has no section.
import { expect, it } from 'vitest';
import { renderMarkdown, renderText } from '../src/report/render-text.js';
import { admin, client, startBackend, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { order } from './helpers/parity-backends.js';

it('shows what parity found per route and judges maxMismatchRate', async () => {
  const json = (wrong: (url: string) => boolean) =>
    startBackend((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(order(req.url ?? '/', wrong(req.url ?? '/'))));
    });
  const legacy = await track(json(() => false));
  // The candidate gets the orders' total wrong, the users right.
  const candidate = await track(json((url) => url.startsWith('/orders')));
  const proxy = await track(
    startProxy(
      testConfig([legacy.url], [candidate.url], {
        routes: [
          { name: 'orders', match: { pathPrefix: '/orders' }, candidatePercent: 50, shadow: { percent: 100 } },
          { name: 'users', match: { pathPrefix: '/users' }, candidatePercent: 50, shadow: { percent: 100 } },
          { name: 'plain', match: { pathPrefix: '/' }, candidatePercent: 50 },
        ],
        report: { confidence: 0.99, criteria: { maxMismatchRate: 0.05 } },
      }),
    ),
  );
  const http = await track(client());
  for (let i = 0; i < 150; i++) for (const p of ['orders', 'users', 'plain']) await http.get(`${proxy.url}/${p}/${i}`);
  // The comparisons land after the client's answer: wait until all are counted.
  const compared = (r: string) => proxy.app.parity.route(r).figures.totals().compared;
  await waitFor(() => compared('orders') === 150 && compared('users') === 150, 10_000, 'all comparisons');
  const { body: r } = await admin(proxy.admin, 'GET', '/api/v1/report');
  const route = (name: string) => r.routes.find((x: { name: string }) => x.name === name);
  expect(route('orders').parity).toMatchObject({ compared: 150, matched: 0, mismatched: 150, mismatchRate: 1, verdict: 'missed', differences: [{ path: '/total', count: 150 }] });
  expect(route('orders').parity.interval.lower).toBeGreaterThan(0.9);
  expect(route('orders').criteria).toEqual([expect.objectContaining({ criterion: 'maxMismatchRate', limit: 0.05, outcome: 'missed' })]);
  expect(route('orders').answer).toBe('missed');
  expect(route('orders').deciding).toEqual([expect.stringMatching(/^maxMismatchRate: 100\.00 % .*limit 5\.00 %: missed$/)]);
  // 150 matching comparisons: at 99 % the upper bound is ~3 %, inside 5 %.
  expect(route('users').parity).toMatchObject({ compared: 150, mismatched: 0, mismatchRate: 0, verdict: 'met', differences: [] });
  expect(route('users').parity.interval.upper).toBeLessThan(0.05);
  expect(route('users').answer).toBe('met');
  expect(route('plain').parity).toBeUndefined();
  expect(route('plain').criteria).toEqual([]);
  expect(r.answer).toBe('missed');
  // What `cutover report` prints, and the Markdown for the ticket.
  const text = renderText(r);
  expect(text).toContain('parity (shadow comparisons since start): 150 compared, 150 mismatched; mismatch rate 100.00 %');
  expect(text).toContain('differing fields: /total (150)');
  expect(renderMarkdown(r)).toContain('- differing fields: /total (150)');
});

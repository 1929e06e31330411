// The confirm webhook gates every step over real HTTP: a refusal (non-2xx) holds the step and says
// why; an approval lets it go; the step's events reach guard.webhooks.
import { expect, it } from 'vitest';
import { rampGuard, traffic } from './helpers/ramp.js';
import { admin, startBackend, startTwoBackendProxy, waitFor } from './helpers/servers.js';

it('holds a step the confirm webhook refuses and takes it once it approves', async () => {
  let approve = false;
  const asked: Array<{ route: string; from: number; to: number }> = [];
  const confirm = await startBackend((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      asked.push(JSON.parse(body));
      res.statusCode = approve ? 200 : 503;
      res.end();
    });
  });
  const events: Array<{ type: string }> = [];
  const hook = await startBackend((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      events.push(JSON.parse(body));
      res.end();
    });
  });
  const t = await startTwoBackendProxy(
    [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, ramp: { steps: [10, 50], holdSeconds: 1, confirmWebhook: `${confirm.url}/confirm` } }],
    { rampIntervalMs: 50 },
    { guard: { ...rampGuard, webhooks: [`${hook.url}/events`] } },
  );
  const load = traffic(t.proxy.url, 8);
  try {
    await admin(t.proxy.admin, 'POST', '/api/v1/ramp/start', { reason: 'test' });
    await waitFor(async () => (await admin(t.proxy.admin, 'GET', '/api/v1/ramp')).body.routes.default.waitingFor === 'confirm-refused', 30_000, 'the refusal');
    const held = (await admin(t.proxy.admin, 'GET', '/api/v1/ramp')).body.routes.default;
    expect(held.message).toMatch(/the confirm webhook did not approve 10 % → 50 %/);
    expect(t.proxy.app.control.percent('default')).toBe(10);
    expect(asked[0]).toMatchObject({ route: 'default', from: 10, to: 50 });
    approve = true;
    await waitFor(() => t.proxy.app.control.percent('default') === 50, 30_000, 'the approved step');
    await waitFor(() => events.some((e) => e.type === 'ramp-step') && events.some((e) => e.type === 'ramp-ended'), 5000, 'the step and end events');
    expect(events.find((e) => e.type === 'ramp-started')).toBeDefined();
  } finally {
    await load.stop();
    await t.close();
    await confirm.close();
    await hook.close();
  }
}, 60_000);

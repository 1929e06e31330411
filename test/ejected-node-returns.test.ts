// A node ejected for failing gets traffic again once its ejection ends and it answers well; the
// ejection and the return are each logged at warn, and the gauge goes back to 0.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { admin, client, named, startBackend, startProxy, testConfig, waitFor, track } from './helpers/servers.js';

it('sends traffic to a fixed node again after its ejection', async () => {
  const lines: Array<{ level: number; msg: string; node?: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  let broken = true;
  const good = await track(named('good'));
  const flaky = await track(
    startBackend((_req, res) => {
      res.statusCode = broken ? 503 : 200;
      res.end(broken ? 'down' : 'flaky');
    }),
  );
  const config = testConfig([good.url], [good.url, flaky.url], {
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }],
    backends: {
      legacy: { upstreams: [good.url] },
      candidate: { upstreams: [good.url, flaky.url], outlierDetection: { consecutiveGatewayFailure: 2, baseEjectionMs: 200 } },
    },
  });
  const proxy = await track(startProxy(config, { logger: createLogger('warn', sink) }));
  const http = await track(Promise.resolve(client()));

  // Two 503s in a row from the flaky node (every other request) eject it.
  for (let i = 0; i < 4; i++) await http.get(`${proxy.url}/x`);
  const ejected = lines.find((l) => l.node === flaky.url && /ejected for 200 ms/.test(l.msg));
  expect(ejected?.level).toBe(40); // warn

  broken = false;
  const hitsWhenFixed = flaky.hits;
  await waitFor(async () => (await http.get(`${proxy.url}/x`)).status === 200 && flaky.hits > hitsWhenFixed, 10_000, 'the fixed node to get traffic');

  await waitFor(() => lines.some((l) => l.node === flaky.url && /back in the round robin/.test(l.msg)), 5000, 'the return to be logged');
  const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
  expect(metrics).toContain(`cutover_upstream_node_ejected{backend="candidate",node="${flaky.url}"} 0`);
  const status = (await admin(proxy.admin, 'GET', '/api/v1/status')).body;
  expect(status.nodes.candidate.find((n: { origin: string }) => n.origin === flaky.url)).toMatchObject({ state: 'serving', enforced: 1 });
});

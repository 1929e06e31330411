// One of two candidate nodes fails every request (503, or a reset right after accepting): the
// outlier detector ejects it after consecutiveGatewayFailure failures, so of 300 requests only
// those few fail instead of half; the ejection shows in /metrics and in the status API.
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { admin, client, named, startBackend, startProxy, testConfig, track } from './helpers/servers.js';

const THRESHOLD = 3; // consecutiveGatewayFailure
const REQUESTS = 300;

/** A TCP listener on 127.0.0.1 that accepts every connection and resets it at once. */
async function resetting(): Promise<{ url: string; accepted: number; close(): Promise<void> }> {
  const r = { accepted: 0 } as { url: string; accepted: number; close(): Promise<void> };
  const server: Server = createServer((socket) => {
    r.accepted++;
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

async function run(badUrl: string) {
  const good = await track(named('good'));
  const proxy = await track(
    startProxy(
      testConfig([good.url], [good.url, badUrl], {
        routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 100 }],
        backends: {
          legacy: { upstreams: [good.url] },
          // A long ejection, so that the node stays out for the whole run however slow it is.
          candidate: { upstreams: [good.url, badUrl], outlierDetection: { consecutiveGatewayFailure: THRESHOLD, baseEjectionMs: 600_000 } },
        },
      }),
    ),
  );
  const http = await track(Promise.resolve(client()));
  const statuses: number[] = [];
  for (let i = 0; i < REQUESTS; i++) statuses.push((await http.get(`${proxy.url}/x`)).status);
  const failed = statuses.filter((s) => s !== 200).length;
  const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
  const status = (await admin(proxy.admin, 'GET', '/api/v1/status')).body;
  return { failed, good, metrics, status };
}

const line = (metrics: string, name: string, labels: string) => metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));

describe('a failing node of two is ejected', () => {
  it.each<[string, () => Promise<{ url: string; close(): Promise<unknown> }>]>([
    ['answers 503', () => startBackend((_req, res) => ((res.statusCode = 503), res.end('down')))],
    ['resets every connection after accepting it', resetting],
  ])('when it %s', async (_name, start) => {
    const bad = await track(start());
    const { failed, good, metrics, status } = await run(bad.url);

    // Round robin sends it every other request until THRESHOLD failures in a row eject it.
    expect(failed).toBe(THRESHOLD);
    expect(good.hits).toBe(REQUESTS - THRESHOLD);

    const node = `backend="candidate",node="${bad.url}"`;
    expect(line(metrics, 'cutover_upstream_node_ejected', node)).toBe(`cutover_upstream_node_ejected{${node}} 1`);
    expect(line(metrics, 'cutover_upstream_node_ejected', `backend="candidate",node="${good.url}"`)).toMatch(/ 0$/);
    expect(line(metrics, 'cutover_outlier_ejections_total', `${node},reason="consecutive-gateway-failure",enforced="true"`)).toMatch(/ 1$/);

    const nodes = status.nodes.candidate as Array<Record<string, unknown>>;
    expect(nodes.find((n) => n.origin === bad.url)).toMatchObject({ state: 'ejected', ejections: 1, detected: 1, enforced: 1, lastReason: 'consecutive-gateway-failure' });
    expect(nodes.find((n) => n.origin === good.url)).toMatchObject({ state: 'serving', ejectedForMs: 0 });
  });
});

// One pod of a headless Service resets every connection: being its own node, it is ejected by
// the outlier detector while the other address serves. Behind a ClusterIP (one node) that pod
// could not be told apart.
import { expect, it } from 'vitest';
import { discoveryBackends, startDns, startSamePortBackends } from './helpers/dns.js';
import { admin, client, startProxy, testConfig, track } from './helpers/servers.js';

const THRESHOLD = 3;

it('one address resetting every connection is ejected while the other serves', async () => {
  const backends = await track(
    startSamePortBackends(['127.0.0.2', '127.0.0.3'], {
      '127.0.0.3': (_b, req) => req.socket.resetAndDestroy(),
    }),
  );
  const name = 'flaky.cutover.test';
  const dns = await track(startDns({ [name]: ['127.0.0.2', '127.0.0.3'] }));
  const upstream = `http://${name}:${backends.port}`;
  const proxy = await track(
    startProxy(
      testConfig([upstream], [upstream], discoveryBackends(upstream, dns.server, {}, { outlierDetection: { consecutiveGatewayFailure: THRESHOLD, baseEjectionMs: 600_000 } })),
    ),
  );
  const http = await track(Promise.resolve(client()));

  const statuses: number[] = [];
  for (let i = 0; i < 100; i++) statuses.push((await http.get(`${proxy.url}/`)).status);
  // Round robin sends it every other request until THRESHOLD resets in a row eject it.
  expect(statuses.filter((s) => s !== 200)).toHaveLength(THRESHOLD);
  expect(backends.byAddress['127.0.0.2'].hits).toBe(100 - THRESHOLD);

  const status = (await admin(proxy.admin, 'GET', '/api/v1/status')).body;
  const byAddress = Object.fromEntries(status.nodes.legacy.map((n: { address: string }) => [n.address, n]));
  expect(byAddress['127.0.0.3']).toMatchObject({ source: 'dns', state: 'ejected', lastReason: 'consecutive-gateway-failure' });
  expect(byAddress['127.0.0.2']).toMatchObject({ source: 'dns', state: 'serving' });
  const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
  expect(metrics).toMatch(/^cutover_upstream_nodes\{backend="legacy",state="ejected"\} 1$/m);
});

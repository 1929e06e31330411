// A name with two A records is two nodes: round robin sends each of them half the requests, and
// the status API lists both with their source, address, health and last refresh.
import { expect, it } from 'vitest';
import { startDns, startSamePortBackends } from './helpers/dns.js';
import { admin, client, startProxy, testConfig, track } from './helpers/servers.js';

it('both addresses of a name get traffic, and the status lists each as a dns node', async () => {
  const hosts = new Set<string | undefined>();
  const answer = (b: { address: string }, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    hosts.add(req.headers.host);
    res.end(b.address);
  };
  const backends = await track(startSamePortBackends(['127.0.0.2', '127.0.0.3'], { '127.0.0.2': answer, '127.0.0.3': answer }));
  const dns = await track(startDns({ 'pods.cutover.test': ['127.0.0.2', '127.0.0.3'] }));
  const upstream = `http://pods.cutover.test:${backends.port}`;
  const proxy = await track(
    startProxy(
      testConfig([upstream], [upstream], {
        backends: { legacy: { upstreams: [upstream], discovery: { type: 'dns', refreshSeconds: 1 } }, candidate: { upstreams: [upstream] } },
        dns: { servers: [dns.server] },
      }),
    ),
  );
  const http = await track(Promise.resolve(client()));

  const bodies: string[] = [];
  for (let i = 0; i < 20; i++) {
    // The client's Host goes through as it is (the node is an address; the name is what it serves).
    const res = await http.get(`${proxy.url}/x`, { host: 'shop.example' });
    expect(res.status).toBe(200);
    bodies.push(res.body);
  }
  expect(bodies.filter((b) => b === '127.0.0.2')).toHaveLength(10);
  expect(bodies.filter((b) => b === '127.0.0.3')).toHaveLength(10);
  expect([...hosts]).toEqual(['shop.example']);

  const status = (await admin(proxy.admin, 'GET', '/api/v1/status')).body;
  expect(status.discovery.legacy).toMatchObject({ state: 'ok', refreshSeconds: 1, errors: [] });
  expect(status.discovery.candidate).toBeNull();
  const nodes = status.nodes.legacy as Array<Record<string, unknown>>;
  expect(nodes.map((n) => n.origin)).toEqual([`http://127.0.0.2:${backends.port}`, `http://127.0.0.3:${backends.port}`]);
  for (const n of nodes) {
    expect(n).toMatchObject({ source: 'dns', upstream, state: 'serving' });
    expect(Date.parse(n.lastRefresh as string)).not.toBeNaN();
  }
  expect(status.nodes.candidate[0]).toMatchObject({ source: 'static', address: 'pods.cutover.test', lastRefresh: null });
});

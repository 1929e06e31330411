// A pod added to the headless Service (a new A record) gets requests from the first refresh
// that sees it on; nothing has to be reloaded.
import { expect, it } from 'vitest';
import { discoveryBackends, nodeOrigins, startDns, startSamePortBackends } from './helpers/dns.js';
import { client, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('a new address gets traffic within one refresh', async () => {
  const backends = await track(startSamePortBackends(['127.0.0.2', '127.0.0.3']));
  const name = 'grow.cutover.test';
  const dns = await track(startDns({ [name]: ['127.0.0.2'] }));
  const upstream = `http://${name}:${backends.port}`;
  const proxy = await track(startProxy(testConfig([upstream], [upstream], discoveryBackends(upstream, dns.server, { refreshSeconds: 1 }))));
  const http = await track(Promise.resolve(client()));
  const b3 = backends.byAddress['127.0.0.3'];

  for (let i = 0; i < 5; i++) expect((await http.get(`${proxy.url}/`)).body).toBe('127.0.0.2');
  expect(b3.hits).toBe(0);

  dns.set(name, ['127.0.0.2', '127.0.0.3']);
  const queriesAtChange = dns.queries;
  // One refresh (refreshSeconds: 1, no jitter) is two queries (A and AAAA); the next request after it goes round robin.
  await waitFor(async () => (await nodeOrigins(proxy.admin)).length === 2, 5_000, 'the new address in the node list');
  expect(dns.queries - queriesAtChange).toBeLessThanOrEqual(2);
  const bodies = [];
  for (let i = 0; i < 4; i++) bodies.push((await http.get(`${proxy.url}/`)).body);
  expect(bodies.filter((b) => b === '127.0.0.3')).toHaveLength(2);
});

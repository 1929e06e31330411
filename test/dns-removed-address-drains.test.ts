// An address that leaves the DNS answer (a pod scaled away) drains: no new request goes to it,
// the requests it is serving finish, and its pool closes once they have. Under a paced load
// across the change, not one request fails.
import { expect, it } from 'vitest';
import { discoveryBackends, nodeOrigins, startDns, startSamePortBackends } from './helpers/dns.js';
import { pacedLoad, tally } from './helpers/paced-outcomes.js';
import { startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('a removed address gets no new requests, finishes those in flight, then its connections close', async () => {
  let servingOn3 = 0;
  const slow = (b: { address: string }, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    req.resume();
    if (b.address === '127.0.0.3') servingOn3++;
    // Slow enough that requests are in flight on the address when it leaves the answer.
    setTimeout(() => {
      if (b.address === '127.0.0.3') servingOn3--;
      res.end(b.address);
    }, 150);
  };
  const backends = await track(startSamePortBackends(['127.0.0.2', '127.0.0.3'], { '127.0.0.2': slow, '127.0.0.3': slow }));
  const name = 'drain.cutover.test';
  const dns = await track(startDns({ [name]: ['127.0.0.2', '127.0.0.3'] }));
  const upstream = `http://${name}:${backends.port}`;
  const proxy = await track(startProxy(testConfig([upstream], [upstream], discoveryBackends(upstream, dns.server))));
  const b2 = backends.byAddress['127.0.0.2'];
  const b3 = backends.byAddress['127.0.0.3'];
  const o3 = `http://127.0.0.3:${backends.port}`;

  let done = false;
  const load = pacedLoad({ url: proxy.url, rate: 60, seconds: 20, keepAliveSockets: 8, path: (i) => `/r${i}`, stopWhen: () => done });
  let hits3AtRemoval = 0;
  let hits2AtRemoval = 0;
  try {
    await waitFor(() => b3.hits >= 10 && servingOn3 > 0, 10_000, 'load on both addresses, some in flight on 127.0.0.3');
    dns.set(name, ['127.0.0.2']);
    await waitFor(async () => !(await nodeOrigins(proxy.admin)).includes(o3), 5_000, '127.0.0.3 gone from the node list');
    hits3AtRemoval = b3.hits;
    hits2AtRemoval = b2.hits;
    // The load goes on; the removed address drains.
    await waitFor(() => b2.hits >= hits2AtRemoval + 60, 10_000, 'more traffic after the removal');
  } finally {
    done = true;
  }
  const records = await load;

  expect(tally(records)).toEqual({ answered: records.length, refused: 0, reset: 0, hangup: 0, other: 0 });
  expect(records.filter((r) => r.status !== 200)).toEqual([]);
  // Nothing new reached it after it left the node list (a request sent just before may still land).
  expect(b3.hits - hits3AtRemoval).toBeLessThanOrEqual(2);
  expect(servingOn3).toBe(0);
  // Its pool closed once its requests had finished: no connection to it is left open.
  await waitFor(() => b3.connections === 0, 10_000, 'connections to 127.0.0.3 closed');
});

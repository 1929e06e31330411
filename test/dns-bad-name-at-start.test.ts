// A discovered name that does not resolve at start is a configuration error naming the field:
// `cutover start` exits 2 before listening. With discovery.optional the proxy starts degraded,
// retries every refresh, and serves the addresses once the name resolves.
import { expect, it } from 'vitest';
import { discoveryBackends, nodeOrigins, startDns, startSamePortBackends } from './helpers/dns.js';
import { runCli, writeConfig } from './helpers/process.js';
import { admin, client, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('cutover start exits 2 naming the upstream whose name does not resolve', async () => {
  const dns = await track(startDns({}));
  const upstream = 'http://missing.cutover.test:8080';
  const file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    routes: [{ name: 'default', candidatePercent: 0 }],
    log: { level: 'silent' },
    ...discoveryBackends(upstream, dns.server),
  });
  const r = await runCli(['start', '--config', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('backends.legacy.upstreams[0]: must resolve to at least one address (ENOTFOUND missing.cutover.test)');
  expect(r.stderr).toContain('backends.legacy.discovery.optional: true');
});

it('with discovery.optional it starts degraded and serves the addresses once the name resolves', async () => {
  const backends = await track(startSamePortBackends(['127.0.0.2', '127.0.0.3']));
  const dns = await track(startDns({}));
  const name = 'later.cutover.test';
  const upstream = `http://${name}:${backends.port}`;
  const proxy = await track(startProxy(testConfig([upstream], [upstream], discoveryBackends(upstream, dns.server, { optional: true }))));
  const status = (await admin(proxy.admin, 'GET', '/api/v1/status')).body;
  expect(status.discovery.legacy).toMatchObject({ state: 'degraded', lastSuccess: null, errors: [`${upstream}: ENOTFOUND ${name}`] });
  // Never an empty cluster: the name itself stands for its node until it resolves.
  expect(status.nodes.legacy).toMatchObject([{ source: 'dns', address: name, lastRefresh: null }]);

  dns.set(name, ['127.0.0.2', '127.0.0.3']);
  await waitFor(async () => (await nodeOrigins(proxy.admin)).length === 2, 5_000, 'both addresses once the name resolves');
  const http = await track(Promise.resolve(client()));
  const bodies = [(await http.get(`${proxy.url}/`)).body, (await http.get(`${proxy.url}/`)).body];
  expect(bodies.sort()).toEqual(['127.0.0.2', '127.0.0.3']);
  expect((await admin(proxy.admin, 'GET', '/api/v1/status')).body.discovery.legacy.state).toBe('ok');
});

// `cutover status` lists each cluster's nodes: source, address, health and last refresh, and a
// discovered cluster's state (DEGRADED with why, when its lookups fail).
import { expect, it } from 'vitest';
import { discoveryBackends, startDns, startSamePortBackends } from './helpers/dns.js';
import { runCli } from './helpers/process.js';
import { admin, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

it('cutover status shows the nodes of each cluster, and a degraded discovery', async () => {
  const backends = await track(startSamePortBackends(['127.0.0.2', '127.0.0.3']));
  const name = 'status.cutover.test';
  const dns = await track(startDns({ [name]: ['127.0.0.2', '127.0.0.3'] }));
  const upstream = `http://${name}:${backends.port}`;
  const proxy = await track(startProxy(testConfig([upstream], [upstream], discoveryBackends(upstream, dns.server))));
  const env = { CUTOVER_ADMIN_URL: proxy.admin };

  const ok = await runCli(['status'], env);
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toMatch(/^legacy: 2 nodes, dns every 1 s, last refresh [\d.]+ s ago$/m);
  expect(ok.stdout).toMatch(new RegExp(`^  dns\\s+127\\.0\\.0\\.2\\s+http://127\\.0\\.0\\.2:${backends.port}\\s+serving\\s+seen [\\d.]+ s ago$`, 'm'));
  expect(ok.stdout).toMatch(new RegExp(`^  dns\\s+127\\.0\\.0\\.3\\s+http://127\\.0\\.0\\.3:${backends.port}\\s+serving`, 'm'));
  expect(ok.stdout).toMatch(/^candidate: 1 node, static$/m);
  expect(ok.stdout).toMatch(/^  static\s+127\.0\.0\.1\s+http:\/\/127\.0\.0\.1:9\s+serving$/m);

  await dns.stop();
  await waitFor(async () => (await admin(proxy.admin, 'GET', '/api/v1/status')).body.discovery.legacy.state === 'degraded', 10_000, 'degraded');
  const degraded = await runCli(['status'], env);
  expect(degraded.stdout).toMatch(new RegExp(`^legacy: 2 nodes, dns every 1 s, last refresh .*; DEGRADED \\(serving the last known nodes\\): ${upstream.replace(/[.:/]/g, '\\$&')}: E`, 'm'));
}, 30_000);

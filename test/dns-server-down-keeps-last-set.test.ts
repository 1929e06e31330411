// The DNS server stops answering: the cluster keeps its last known addresses (traffic goes on to
// both), the status says degraded with why, the metrics count the failed lookups, and the state
// change is logged once, not once per refresh. When the server is back, the cluster recovers.
import { expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { discoveryBackends, startDns, startSamePortBackends } from './helpers/dns.js';
import { admin, client, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { toolAvailable } from './helpers/tools.js';

it('traffic goes on to the last known set, and status and metrics say degraded', async () => {
  const backends = await track(startSamePortBackends(['127.0.0.2', '127.0.0.3']));
  const name = 'outage.cutover.test';
  const dns = await track(startDns({ [name]: ['127.0.0.2', '127.0.0.3'] }));
  const upstream = `http://${name}:${backends.port}`;
  const lines: Array<{ msg: string; level: number }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  const logger = createLogger('info', sink);
  const proxy = await track(startProxy(testConfig([upstream], [upstream], discoveryBackends(upstream, dns.server)), { logger }));
  const http = await track(Promise.resolve(client()));
  const status = async () => (await admin(proxy.admin, 'GET', '/api/v1/status')).body;
  expect((await status()).discovery.legacy.state).toBe('ok');

  await dns.stop();
  await waitFor(async () => (await status()).discovery.legacy.state === 'degraded', 10_000, 'degraded in the status');
  // Two more refreshes fail: still one log line for the change.
  const s = await status();
  await waitFor(async () => (await status()).discovery.legacy.lastRefresh !== s.discovery.legacy.lastRefresh, 10_000, 'another failed refresh');
  expect(s.discovery.legacy.errors).toEqual([expect.stringContaining(`${upstream}: `)]);
  expect(s.nodes.legacy.map((n: { address: string }) => n.address)).toEqual(['127.0.0.2', '127.0.0.3']);

  const bodies: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await http.get(`${proxy.url}/`);
    expect(res.status).toBe(200);
    bodies.push(res.body);
  }
  expect(new Set(bodies)).toEqual(new Set(['127.0.0.2', '127.0.0.3']));

  const metrics = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
  expect(metrics).toMatch(/^cutover_discovery_degraded\{backend="legacy"\} 1$/m);
  expect(metrics).toMatch(/^cutover_upstream_nodes\{backend="legacy",state="serving"\} 2$/m);
  expect(Number(/^cutover_discovery_failures_total\{backend="legacy"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  expect(Number(/^cutover_discovery_refreshes_total\{backend="legacy"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
  expect(lines.filter((l) => l.msg.startsWith('discovery of legacy degraded'))).toHaveLength(1);
  // The discovery metrics keep the scrape clean for Prometheus's linter.
  if (toolAvailable('promtool')) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
  }
});

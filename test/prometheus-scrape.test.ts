// A real Prometheus server (Debian's package) scrapes cutover every second; the request counter is
// read back through Prometheus's own query API, and the shipped alerting rules evaluate cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { client, deadPort, named, startProxy, testConfig, track, waitFor } from './helpers/servers.js';
import { toolAvailable } from './helpers/tools.js';

// Loaded too, so that a real Prometheus evaluates the shipped alerting rules against a real cutover.
const RULES = resolve('deploy/prometheus/cutover-rules.yml');

it.runIf(toolAvailable('prometheus'))(
  'is scraped by Prometheus and its request counter reads back through PromQL',
  async () => {
    const backend = await track(named('b'));
    const proxy = await track(startProxy(testConfig([backend.url], [backend.url])));
    const http = await track(client());
    for (let i = 0; i < 42; i++) await http.get(`${proxy.url}/x`);

    const dir = mkdtempSync(join(tmpdir(), 'cutover-prom-'));
    const adminTarget = proxy.admin.replace('http://', '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: ['${RULES}']\nscrape_configs:\n  - job_name: cutover\n    static_configs: [{ targets: ['${adminTarget}'] }]\n`,
    );
    const listen = (await deadPort()).replace('http://', '');
    const prom: ChildProcess = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prom.stderr!.on('data', (d) => (log += d));
    await track({
      // Stopped by its PID, then its config and data removed.
      async close() {
        if (prom.exitCode === null && prom.signalCode === null) {
          const exited = new Promise((r) => prom.once('exit', r));
          prom.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    });

    const query = async (q: string) => {
      const res = await fetch(`http://${listen}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result;
    };
    // The first sample takes 5 to 6 s to appear; poll for up to 30 s.
    await waitFor(
      async () => {
        try {
          const r = await query('sum(cutover_requests_total{route="default",code_class="2xx"})');
          return r.length === 1 && r[0].value[1] === '42';
        } catch {
          return false;
        }
      },
      30_000,
      `Prometheus reading cutover_requests_total = 42 (prometheus log: ${log.slice(-500)})`,
    );
    const up = await query('up{job="cutover"}');
    expect(up[0].value[1]).toBe('1');

    // Every alerting rule evaluates without an error, and none fires on a healthy cutover (once
    // the rules have run after the first scrape: before it, CutoverMetricsAbsent is pending).
    type Rule = { name: string; health: string; lastError?: string; state: string };
    let rules: Rule[] = [];
    await waitFor(
      async () => {
        const res = await fetch(`http://${listen}/api/v1/rules`);
        const body = (await res.json()) as { data: { groups: Array<{ rules: Rule[] }> } };
        rules = body.data.groups.flatMap((g) => g.rules);
        return rules.length > 0 && rules.every((r) => r.health !== 'unknown' && r.state === 'inactive');
      },
      15_000,
      'every rule evaluated and inactive',
    ).catch(() => {}); // the assertions below say what was wrong
    expect(rules.map((r) => r.name)).toContain('CutoverGuardReverted');
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    expect(rules.filter((r) => r.state !== 'inactive').map((r) => r.name)).toEqual([]);
  },
  45_000,
);

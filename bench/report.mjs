// Output only: turns scenario results (plain data) into text tables and the JSON file under
// bench/results/. Scenarios never print their figures; a new scenario adds a renderer here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const fixed = (n, digits) => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));
const times = (n) => (n === null || n === undefined ? '-' : `${n.toFixed(2)}x`);
// Load core busy at or above this (% of one core): the load side, not the proxy, set the pace.
const LOAD_SATURATED = 95;
// Other processes busy at or above this (% of one core) during a run: its figures are disturbed.
const OTHER_BUSY = 10;

const percent = (n, digits = 1) => (n === null || n === undefined ? '-' : `${(n * 100).toFixed(digits)} %`);

export function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function renderThroughput(r) {
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'x direct', 'x nginx', 'p99 x nginx', 'candidate', 'proxy CPU', 'CPU us/req', 'load CPU', 'other CPU'];
  const rows = r.rows.map((row) => {
    const q = r.ratios[row.target];
    return [
      row.target,
      fixed(row.reqPerSec, 0),
      fixed(row.latencyMs.p50, 3),
      fixed(row.latencyMs.p99, 3),
      row.errors + row.timeouts,
      row.non2xx,
      times(q.reqPerSecVsDirect),
      times(q.reqPerSecVsNginx),
      times(q.p99VsNginx),
      percent(row.split.candidateShare, 2),
      row.cpuPercent.proxy === null ? '-' : `${row.cpuPercent.proxy} %`,
      fixed(row.proxyCpuUsPerRequest, 1),
      `${row.cpuPercent.loadCore} %`,
      `${row.cpuPercent.other} %`,
    ];
  });
  const out = [
    `throughput: ${r.connections} connections, ${r.durationSeconds} s measured after ${r.warmupSeconds} s warm-up, split ${100 - r.candidatePercent}/${r.candidatePercent}`,
    table(header, rows),
    `  latency: 2xx responses as seen by autocannon, microsecond resolution; candidate: share of requests the candidate backend served (its own count)`,
    `  proxy CPU: the proxy process, % of one core, and its CPU time per request; load CPU: autocannon + both backends, % of one core; other CPU: every other process on the machine`,
  ];
  const capped = r.rows.filter((row) => row.cpuPercent.loadCore >= LOAD_SATURATED).map((row) => row.target);
  if (capped.length > 0) {
    out.push(
      `  note: the load side was saturated (>= ${LOAD_SATURATED} % of its core) for ${capped.join(', ')}: their req/s is a lower bound, set by the load generator, and ratios against them flatter the others; CPU us/req is not affected`,
    );
  }
  const disturbed = r.rows.filter((row) => row.cpuPercent.other >= OTHER_BUSY).map((row) => `${row.target} (${row.cpuPercent.other} %)`);
  if (disturbed.length > 0) {
    out.push(`  note: other processes used CPU during ${disturbed.join(', ')}: those figures are disturbed; run again on a quiet machine`);
    for (const row of r.rows.filter((x) => x.cpuPercent.other >= OTHER_BUSY)) {
      out.push(`    during ${row.target}: ${row.busiestOtherProcesses.map((p) => `${p.command} (pid ${p.pid}) ${p.cpuPercent} %`).join(', ')}`);
    }
  }
  const t = r.cutoverVsTargets;
  if (t) {
    out.push(
      `  cutover vs nginx: ${t.reqPerSecVsNginx.toFixed(2)}x req/s (target >= ${t.minReqPerSecVsNginx}), ${t.p99VsNginx.toFixed(2)}x p99 (target <= ${t.maxP99VsNginx}): ${t.met ? 'met' : 'not met'}${disturbed.length > 0 ? ', but on a busy machine' : ''} (informational, never fails the run)`,
    );
  }
  const cpuVsNginx = r.ratios.cutover?.proxyCpuPerRequestVsNginx;
  if (cpuVsNginx) {
    const perCore = (row) => Math.round(1e6 / row.proxyCpuUsPerRequest);
    const [c, n] = ['cutover', 'nginx'].map((t) => r.rows.find((row) => row.target === t));
    out.push(
      `  cutover CPU per request: ${cpuVsNginx.toFixed(2)}x nginx's (${c.proxyCpuUsPerRequest} vs ${n.proxyCpuUsPerRequest} us); a full core at that cost is about ${perCore(c)} vs ${perCore(n)} req/s (an estimate; it ignores latency)`,
    );
  }
  for (const row of r.rows) {
    if (row.errors + row.timeouts + row.non2xx > 0) {
      out.push(`  ${row.target}: ${row.errors} errors, ${row.timeouts} timeouts, status codes ${JSON.stringify(row.statusCodes)}`);
      for (const l of row.proxyOutputTail ?? []) out.push(`    | ${l}`);
    }
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export const renderers = { throughput: renderThroughput };

export function render(result) {
  const r = renderers[result.scenario];
  return r ? r(result) : JSON.stringify(result, null, 2);
}

/** Write the whole run as JSON to `dir`/<timestamp>.json; returns the file path. */
export function writeResults(dir, run) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}

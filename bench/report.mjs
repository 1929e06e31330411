// Output only: turns scenario results (plain data) into text tables and the JSON file under
// bench/results/. Scenarios never print their figures; a new scenario adds a renderer here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderShadow } from './scenarios/shadow.mjs';
import { renderStalls } from './scenarios/stalls.mjs';

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
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'x direct', 'x nginx', 'p99 x nginx', 'candidate', 'proxy CPU', 'CPU us/req', 'CPU x bare', 'peak RSS MiB', 'RSS x bare', 'load CPU', 'other CPU'];
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
      times(q.proxyCpuPerRequestVsBareUndici),
      fixed(row.proxyRssMiB?.peak, 1),
      times(q.peakRssVsBareUndici),
      `${row.cpuPercent.loadCore} %`,
      `${row.cpuPercent.other} %`,
    ];
  });
  const out = [
    `throughput: ${r.connections} connections, ${r.durationSeconds} s measured after ${r.warmupSeconds} s warm-up, split ${100 - r.candidatePercent}/${r.candidatePercent}${(r.rounds ?? 1) > 1 ? `; ${r.rounds} interleaved rounds, medians shown` : ''}`,
    table(header, rows),
    `  latency: 2xx responses as seen by autocannon, microsecond resolution; candidate: share of requests the candidate backend served (its own count)`,
    `  proxy CPU: the proxy process, % of one core, and its CPU time per request; load CPU: autocannon + both backends, % of one core; other CPU: every other process on the machine`,
    `  peak RSS: the proxy's resident memory high-water mark (VmHWM) over warm-up and measured run; x bare: against bare-undici, a node:http + undici Pool.dispatch proxy with no split or stats`,
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
  const b = r.cutoverVsBaselines;
  if (b && (b.cpuPerRequestVsBareUndici !== null || b.p99VsNginx !== null)) {
    out.push(
      `  cutover vs bare undici: ${times(b.cpuPerRequestVsBareUndici)} CPU per request, ${times(b.peakRssVsBareUndici)} peak RSS (what routing, split, stats and the admin cost); cutover vs nginx: ${times(b.p99VsNginx)} p99`,
    );
    if (b.libsPeakRssVsBareUndici !== null && b.libsPeakRssVsBareUndici !== undefined) {
      out.push(`  bare undici with cutover's libraries loaded (fastify + prom-client /metrics, pino, hdr-histogram-js, yaml, TypeBox, jStat) and nothing else: ${times(b.libsPeakRssVsBareUndici)} peak RSS`);
    }
    const list = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
    if (b.rounds && b.rounds.cpuPerRequestVsBareUndici.length > 1) {
      out.push(
        `  per round (ratios within each round, the median above): CPU x bare ${list(b.rounds.cpuPerRequestVsBareUndici)}; peak RSS x bare ${list(b.rounds.peakRssVsBareUndici)}; p99 x nginx ${list(b.rounds.p99VsNginx)}`,
      );
    }
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

const ms = (n) => (n === null || n === undefined ? '-' : String(Math.round(n)));

/** One line of a guard window's figures, as the latch's evidence holds them. */
function windowLine(w) {
  const side = (f) => `${f.requests} req, errors ${percent(f.errorRate)}, p99 ${fixed(f.p99Ms, 1)} ms`;
  return `${w.seconds} s window: candidate ${side(w.candidate)}; legacy ${side(w.legacy)}`;
}

export function renderGuard(r) {
  const g = r.guardSettings;
  const settings = g
    ? `guard as cutover reports it: every ${g.intervalMs} ms, windows ${g.windowSeconds} s and ${g.fastWindowSeconds ?? '-'} s, minRequests ${g.minRequests}, consecutive ${g.consecutive}, maxErrorRate ${g.rules.maxErrorRate}, maxP99Ms ${g.rules.maxP99Ms}${g.dryRun ? ', DRY RUN' : ''}`
    : 'guard settings: not read (no run started)';
  const header = ['run', 'revert reaction ms', 'failure -> next evaluation ms', 'failure -> breach seen ms', 'failure -> latch ms', 'last request after latch ms', 'candidate 500s', 'rule', `within ${r.targetMs / 1000} s`];
  const rows = r.runs.map((x) => [
    String(x.run),
    ms(x.revertReactionMs),
    ms(x.firstFailureToNextEvaluationMs),
    ms(x.firstFailureToBreachSeenMs),
    ms(x.firstFailureToLatchMs),
    ms(x.lastRequestAfterLatchMs),
    x.candidateFailed,
    x.rule ?? 'not reverted',
    x.reverted ? (x.revertReactionMs <= r.targetMs ? 'yes' : 'NO') : 'NO',
  ]);
  const s = r.summary;
  if (s && s.reverted > 1) {
    for (const k of ['min', 'median', 'max']) {
      rows.push([k, ms(s.revertReactionMs?.[k]), ms(s.firstFailureToNextEvaluationMs?.[k]), ms(s.firstFailureToBreachSeenMs?.[k]), ms(s.firstFailureToLatchMs?.[k]), ms(s.lastRequestAfterLatchMs?.[k]), ms(s.candidateFailed?.[k]), '', '']);
    }
  }
  const out = [
    `guard: ${r.rate} req/s paced over ${r.connections} connections, candidate ${r.candidatePercent} %, healthy for ${r.healthySeconds} s, then the candidate fails every request (500) until the revert + ${r.afterRevertMs / 1000} s; ${r.runs.length} run(s), a fresh cutover each`,
    `  ${settings}`,
    table(header, rows),
    `  revert reaction: from the candidate's first failing response to the last request it received (both stamped by the candidate backend), target <= ${r.targetMs} ms`,
    `  next evaluation: where the failure fell between two guard evaluations (each run places the fault at a different point of the ${g?.intervalMs ?? '-'} ms interval)`,
    `  breach seen / latch: cutover's "guard: breach seen" log line (first breaching evaluation) and the latch's since (the revert), both from the first failure`,
  ];
  if (s) {
    const verdict = s.reverted === 0 ? 'no run reverted' : `${s.withinTarget} of ${s.runs} run(s) within ${r.targetMs} ms${s.revertReactionMs ? ` (worst ${ms(s.revertReactionMs.max)} ms)` : ''}`;
    out.push(`  target (issue 4, revert within ${r.targetMs / 1000} s): ${verdict}; rule(s) that fired: ${s.rules.join(', ') || '-'} (informational, never fails the run)`);
  }
  for (const x of r.runs) {
    if (!x.latch) continue;
    out.push(`  run ${x.run} latch: ${x.latch.reason}`);
    for (const w of x.latch.evidence?.windows ?? []) out.push(`    ${windowLine(w)}`);
    if (x.revertReactionMs > r.targetMs) {
      out.push(`    slower than the target: breach first seen ${ms(x.firstFailureToBreachSeenMs)} ms after the first failure, latched ${ms(x.firstFailureToLatchMs)} ms after it`);
    }
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export function renderGuardEval(r) {
  const rows = r.rows.map((row) => [row.rules, fixed(row.meanMs, 2), fixed(row.p50Ms, 2), fixed(row.p99Ms, 2), fixed(row.maxMs, 2), row.verdicts.join(' ')]);
  return [
    `guard evaluation: ${r.routes} routes, ${r.windowSeconds} s of traffic at ${r.requestsPerRouteAndBackendPerSecond} req/s per route and backend, ${r.evaluations} evaluations (budget ${r.budgetMs} ms)`,
    table(['rules', 'mean ms', 'p50 ms', 'p99 ms', 'max ms', 'verdicts'], rows),
  ].join('\n');
}

export function renderFleet(r) {
  const rows = r.runs.map((x) => [x.run, x.leader, x.reverted ? 'yes' : 'NO', fixed(x.failureToLastRequestMs, 0), x.candidateFailed]);
  return [
    `fleet: ${r.replicas} replicas sharing one Redis, ${r.ratePerReplica} req/s through each, candidate ${r.candidatePercent} %, candidate fails every request`,
    table(['run', 'leader', 'reverted', 'first failure -> last candidate request ms', 'candidate 500s'], rows),
    r.summary ? `reverted ${r.summary.reverted}/${r.summary.runs}; max ${fixed(r.summary.maxMs, 0)} ms, mean ${fixed(r.summary.meanMs, 0)} ms` : '',
    ...r.failures,
  ].join('\n');
}

export function renderDrain(r) {
  const header = ['drain', 'sent', 'answered', 'refused', 'reset', 'hung up', 'other', 'lost', 'during drain', 'Connection: close', 'uploads ok', 'takeover answered', 'exit', 'exit ms', 'state flushed'];
  const rows = r.drains.map((d) => {
    const x = d.draining;
    return [d.drain, x.sent, x.answered, x.refused, x.reset, x.hangup, x.other, x.reset + x.hangup + x.other, d.sentDuringDrain, d.answeredWithConnectionClose, `${d.uploads.answered}/${d.uploads.sent}`, `${d.takeover.answered}/${d.takeover.sent}`, d.exitCode, d.exitMsAfterSignal ?? '-', d.stateFlushed ? 'yes' : 'NO'];
  });
  const s = r.summary;
  const out = [
    `drain: ${r.rate} req/s (fast, 800 ms, a 10 MB upload every 200th; keep-alive and new connections), SIGTERM ${r.signalAtMs} ms in, shutdownDrainSeconds ${r.drainSeconds}, the client moves to a second cutover ${r.reactionMs} ms after the signal; ${r.drains.length} drain(s), a fresh cutover each`,
    table(header, rows),
    `  counted for the requests sent to the draining cutover: answered (whole body; uploads counted byte for byte by the backend), refused (no connection, the request never left the client), lost = reset + hung up + other`,
  ];
  if (s) out.push(`  lost per drain: ${s.lostPerDrain.join(', ')} (total ${s.lostTotal} in ${s.drains} drains)`);
  for (const d of r.drains) for (const l of d.lossExamples) out.push(`  drain ${d.drain} lost: #${l.seq} ${l.kind} ${l.keepAlive ? 'keep-alive' : 'new connection'} sent ${l.sentAtMs} ms, ended ${l.endedAtMs} ms: ${l.error}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export function renderWorkers(r) {
  const rows = r.rows.map((row) => [
    String(row.workers),
    String(row.processes),
    fixed(row.reqPerSec, 0),
    times(row.reqPerSecVsOne),
    fixed(row.latencyMs.p99, 3),
    row.errors + row.non2xx,
    `${row.cpuPercent} %`,
    `${row.primaryCpuPercent} %`,
    fixed(row.cpuUsPerRequest, 1),
    times(row.cpuPerRequestVsOne),
  ]);
  const out = [
    `workers: ${r.connections} connections, ${r.durationSeconds} s measured after ${r.warmupSeconds} s warm-up, split ${100 - r.candidatePercent}/${r.candidatePercent}`,
    table(['workers', 'processes', 'req/s', 'x 1 worker', 'p99 ms', 'errors', 'cutover CPU', 'of which primary', 'CPU us/req', 'x 1 worker'], rows),
    `  cutover CPU: the primary and every worker together, % of one core; CPU us/req: their CPU time per request the backends served`,
    `  ${r.pinned ? 'pinned: all of them share one core, so two workers also pay for time-slicing each other' : 'not pinned: cutover, autocannon and the backends share every core'}`,
  ];
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export function renderRestart(r) {
  const rows = r.windows.map((w) => [w.restart, w.atMs, w.sent, w.answered, w.refused, w.reset, w.hangup, w.other, w.lost]);
  return [
    `restart: one cutover with workers: 1, ${r.rate} req/s mixed (fast, 800 ms, 10 MB uploads; keep-alive and new connections), SIGUSR2 ${r.restarts} times`,
    table(['restart', 'at ms', 'sent after it', 'answered', 'refused', 'reset', 'hung up', 'other', 'lost'], rows),
    `  whole run: ${JSON.stringify(r.total)}; shed ${r.shed}; restarts that took effect (new worker PIDs serving) ${r.restartsLogged}/${r.restarts}; same primary PID throughout: ${r.samePid}`,
  ].join('\n');
}

export function renderCost(r) {
  const list = (xs) => (xs ?? []).map((x) => (x === null ? '-' : x.toFixed(2))).join(' ');
  const vsBare = r.vsBare ?? {};
  const ld = (d) => (d && d.p99Ms !== null && d.p99Ms !== undefined ? `${fixed(d.p99Ms, 1)} / ${fixed(d.maxMs, 0)}` : '-');
  const rows = Object.entries(r.figures ?? {}).map(([target, f]) => [
    target,
    fixed(f.reqPerSec, 0),
    fixed(f.p99Ms, 1),
    times(vsBare[target]?.p99),
    fixed(f.cpuUsPerRequest, 1),
    times(vsBare[target]?.cpu),
    fixed(f.peakRssMiB, 1),
    times(vsBare[target]?.rss),
    f.podPeakRssMiB !== f.peakRssMiB ? fixed(f.podPeakRssMiB, 1) : '',
    fixed(f.startupMs, 0),
    ld(f.warmupLoopDelay),
    ld(f.loopDelay),
  ]);
  const out = [
    `cost: ${r.rounds} rounds, in each ${Object.keys(r.figures ?? {}).join(', ')} side by side on the proxy core${r.pinned ? '' : ' (not pinned)'}, ${r.connections} connections each, ${r.durationSeconds} s after ${r.warmupSeconds} s warm-up`,
    table(['target', 'req/s', 'p99 ms', 'p99 x bare', 'CPU us/req', 'CPU x bare', 'peak RSS MiB', 'RSS x bare', 'pod RSS', 'start-up ms', 'loop p99/max warm-up', 'loop p99/max run'], rows),
    `  medians over the rounds; each ratio is taken within its round, then the median of those (so the columns need not divide exactly)`,
    `  req/s and p99 are shares of one core (the targets run side by side): compare them within this table only`,
    `  cutover-workers-1: CPU of primary + worker; peak RSS the worker's, pod RSS both processes' high-water marks summed; loop delay the worker's`,
    `  loop delay (ms, beyond the 10 ms sampling interval): warm-up = the first ${r.warmupSeconds} s of load after start-up, run = the measured ${r.durationSeconds} s (saturated)`,
    `  bare-undici+libs: the bare proxy with fastify + prom-client /metrics, pino, hdr-histogram-js, yaml, TypeBox and jStat loaded and idle: what the libraries alone cost`,
  ];
  const alone = Object.entries(r.figures ?? {}).map(([target, f]) => {
    const a = f.alone ?? {};
    const l = (x) => (x?.loopDelayP99Ms === null || x?.loopDelayP99Ms === undefined ? '-' : `${fixed(x.loopDelayP99Ms, 1)} / ${fixed(x.loopDelayMaxMs, 0)}`);
    const c = (x) => (x?.onCpuP99Ms === null || x?.onCpuP99Ms === undefined ? '-' : `${fixed(x.onCpuP99Ms, 1)} / ${fixed(x.onCpuMaxMs, 0)}`);
    return [target, fixed(a.early?.p99Ms, 1), l(a.early), c(a.early), fixed(a.settled?.p99Ms, 1), l(a.settled), c(a.settled), fixed(a.saturated?.reqPerSec, 0), fixed(a.saturated?.p99Ms, 1), l(a.saturated)];
  });
  out.push(`  each target alone on the proxy core right after its start: paced 1,500 req/s (1 s warm-up, early 6 s, settled 6 s), then flat out`);
  out.push(`  loop p99/max: monitorEventLoopDelay (counts time waiting for the core behind other tenants); on-CPU: each 10 ms tick's lateness capped by the CPU the process used meanwhile (its own blocking)`);
  out.push(table(['target', 'early p99 ms', 'early loop p99/max', 'early on-CPU', 'settled p99 ms', 'settled loop p99/max', 'settled on-CPU', 'alone req/s', 'alone p99 ms', 'alone loop p99/max'], alone));
  if (r.ratios && r.runs.length > 1) {
    out.push(`  per round: early p99 x bare ${list(r.ratios.earlyP99VsBareUndici)}; settled p99 x bare ${list(r.ratios.settledP99VsBareUndici)}; workers-1 early p99 x bare ${list(r.ratios.workersEarlyP99VsBareUndici)}`);
    out.push(`  per round: cutover p99 x bare ${list(r.ratios.p99VsBareUndici)}; workers-1 p99 x bare ${list(r.ratios.workersP99VsBareUndici)}; cutover CPU x bare ${list(r.ratios.cpuPerRequestVsBareUndici)}; workers-1 CPU x bare ${list(r.ratios.workersCpuPerRequestVsBareUndici)}; cutover RSS x bare ${list(r.ratios.peakRssVsBareUndici)}; workers-1 req/s x cutover ${list(r.ratios.workersReqPerSecVsSingle)}`);
  }
  if (r.budget) {
    const one = (x, unit) => (x === null || x === undefined ? '-' : unit === 'x' ? `${x.toFixed(2)}x` : `${fixed(x, 1)} ${unit}`);
    const value = (b) => {
      if (b.pair) return `${one(b.value, b.unit)} / ${one(b.worst, b.unit)}`;
      if (b.third !== undefined) return `${one(b.value, b.unit)} / ${one(b.second, b.unit)} / ${one(b.third, b.unit)}`;
      if (b.second !== undefined) return `${one(b.value, b.unit)} / ${one(b.second, b.unit)}`;
      return `${one(b.value, b.unit)}${b.worst !== undefined && b.worst !== null ? ` (worst ${b.worst.toFixed(2)}x)` : ''}`;
    };
    out.push(`  issue 19's budget, from this run:`, table(['figure', 'budget', 'measured'], r.budget.map((b) => [b.figure, b.budget, value(b)])));
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export function renderNodes(r) {
  const list = (xs) => xs.map((x) => (x === null ? '-' : x.toFixed(3))).join(' ');
  const [few] = Object.keys(r.figures ?? {});
  const rows = Object.entries(r.figures ?? {}).map(([target, f]) => [target, f.nodes ?? '-', fixed(f.reqPerSec, 0), fixed(f.cpuUsPerRequest, 1), target === few ? times(1) : times(r.medians.cpuPerRequest), fixed(f.peakRssMiB, 1)]);
  const verdict = r.withinBound === null ? 'no figure' : r.withinBound ? `within ${r.maxCpuRatio}x` : `ABOVE ${r.maxCpuRatio}x`;
  const out = [
    `nodes: ${r.rounds} rounds, in each a cutover with ${r.nodeCounts.join(' and one with ')} DNS-discovered nodes side by side on the proxy core, ${r.rate} req/s over ${r.connections} connections each, ${r.durationSeconds} s after ${r.warmupSeconds} s warm-up`,
    table(['cluster', 'nodes', 'req/s', 'CPU us/req', `CPU x ${few}`, 'peak RSS MiB'], rows),
    `  CPU per request of the larger cluster over the smaller, taken within each round, median over the rounds: ${fixed(r.medians.cpuPerRequest, 3)}x (${verdict}); both paced at the same rate, so req/s is not a throughput figure`,
  ];
  if (r.ratios && r.runs.length > 1) out.push(`  per round: ${list(r.ratios.cpuPerRequest)}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export function renderDashboard(r) {
  const rows = Object.entries(r.figures ?? {}).map(([target, f], i) => [target, fixed(f.cpuSeconds, 2), fixed(f.cpuPercentOfCore, 1), i === 0 ? '1.00x' : times(r.medians.cpuWithVsWithout)]);
  const added = r.medians?.cpuWithVsWithout;
  const d = r.figures?.[`${r.dashboards}-dashboards`];
  const out = [
    `dashboard: ${r.rounds} rounds, in each two cutovers side by side on the proxy core at ${r.rate} req/s each, one with ${r.dashboards} clients on GET /api/v1/events; ${r.durationSeconds} s after ${r.warmupSeconds} s warm-up`,
    table(['target', 'CPU s', 'CPU % of a core', 'CPU x no-dashboard'], rows),
    `  ${r.dashboards} dashboards add ${added === null || added === undefined ? '-' : `${((added - 1) * 100).toFixed(1)} %`} CPU (the issue's budget: under 5 %); each stream ${d?.bytesPerClientPerSecond ?? '-'} bytes/s, ${d?.eventsPerClient ?? '-'} events over the measured run`,
    `  medians over the rounds; the ratio is taken within each round, then the median of those`,
  ];
  if (r.ratios && r.runs.length > 1) out.push(`  per round: ${r.ratios.cpuWithVsWithout.map((x) => (x === null ? '-' : x.toFixed(3))).join(' ')}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const f of r.failures) out.push(`  FAILED: ${f}`);
  return out.join('\n');
}

export const renderers = { shadow: renderShadow, stalls: renderStalls, dashboard: renderDashboard, throughput: renderThroughput, cost: renderCost, nodes: renderNodes, guard: renderGuard, 'guard-eval': renderGuardEval, fleet: renderFleet, drain: renderDrain, workers: renderWorkers, restart: renderRestart };

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

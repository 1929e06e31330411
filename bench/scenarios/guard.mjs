// The guard scenario of issue 4: with the guard's defaults, at 1,000 req/s and the candidate at
// 10 %, a candidate that starts failing every request must be reverted within 3 s, measured from
// the candidate's first failing response to the last request the candidate received (both times
// taken by the candidate backend itself). Each run: fresh backends and a fresh cutover, a healthy
// period long enough to fill the guard's 30 s window with healthy history (the hard case: it
// dilutes the failure), then the candidate fails every request until the guard reverts, plus 2 s
// to see that nothing reaches the candidate any more. Returns plain data; report.mjs renders it.
//
// The revert time depends on where the failure falls between two guard evaluations (every
// intervalMs, on cutover's own timer). Left alone, that phase is the same in every run (the healthy
// period is whole seconds from cutover's start), so each run places the fault deliberately: it
// reads the time of the guard's last evaluation from GET /api/v1/guard and switches the candidate
// (i - 0.5) / runs of an interval before an evaluation, spreading the runs over the interval.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendCounts, setFault, startBackend } from '../lib/backends.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { get } from '../lib/http.mjs';
import { startPacedLoad } from '../lib/paced-load.mjs';

export const GUARD_TARGET_MS = 3000;
const RATE = 1000;
const CONNECTIONS = 20;
const CANDIDATE_PERCENT = 10;
const POLL_MS = 50;
const AFTER_REVERT_MS = 2000;
// Bound on the wait for a revert; past it the run is reported as "not reverted".
const REVERT_TIMEOUT_SECONDS = 30;
const ROUTE = 'default';

/** Seconds the scenario may take at most (for run.mjs's watchdog). */
export function guardBudgetSeconds(opts) {
  return opts.guardRuns * (opts.guardHealthySeconds + REVERT_TIMEOUT_SECONDS + AFTER_REVERT_MS / 1000 + 25) + 30;
}

export async function guardScenario(ctx) {
  const { guardRuns, guardHealthySeconds } = ctx.opts;
  const result = {
    scenario: 'guard',
    rate: RATE,
    connections: CONNECTIONS,
    candidatePercent: CANDIDATE_PERCENT,
    healthySeconds: guardHealthySeconds,
    targetMs: GUARD_TARGET_MS,
    pollMs: POLL_MS,
    afterRevertMs: AFTER_REVERT_MS,
    guardSettings: null,
    runs: [],
    summary: null,
    failures: [],
    notes: [],
  };
  for (let i = 1; i <= guardRuns; i++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    try {
      const run = await oneRun(ctx, i, guardRuns, guardHealthySeconds);
      result.guardSettings ??= run.guardSettings;
      delete run.guardSettings;
      result.runs.push(run);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`run ${i}: ${err.message}`);
      ctx.log(`guard run ${i} failed: ${err.message}`);
    }
  }
  result.summary = summarise(result.runs);
  const windowSeconds = result.guardSettings?.windowSeconds;
  if (windowSeconds && guardHealthySeconds < windowSeconds) {
    result.notes.push(
      `healthy period ${guardHealthySeconds} s is shorter than the guard window (${windowSeconds} s): the window is not full of healthy history, so the failure is less diluted than in the hard case (use the default or --guard-healthy ${windowSeconds + 5})`,
    );
  }
  for (const r of result.runs) {
    if (!r.reverted) result.notes.push(`run ${r.run}: not reverted within ${REVERT_TIMEOUT_SECONDS} s of the fault; last verdict: ${r.lastVerdict?.summary ?? 'none'}`);
    if (r.load.errors + r.load.shed + r.load.unfinished > 0) {
      result.notes.push(`run ${r.run}: load side: ${r.load.errors} transport errors ${JSON.stringify(r.load.errorCodes)}, ${r.load.shed} shed, ${r.load.unfinished} unfinished`);
    }
    if (r.healthyState !== 'healthy') result.notes.push(`run ${r.run}: the guard said "${r.healthyState}" at the end of the healthy period, not "healthy"`);
  }
  return result;
}

async function oneRun(ctx, i, runs, healthySeconds) {
  const { signal } = ctx;
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  let cutover;
  let load;
  try {
    const name = `cutover-guard-${i}`;
    cutover = await startCutover(ctx, {
      legacy,
      candidate,
      candidatePercent: CANDIDATE_PERCENT,
      name,
      admin: true,
      stateFile: join(ctx.tmpDir, name, 'state.json'),
      // The guard's defaults are what is measured; only webhooks is set, to its default.
      guard: { webhooks: [] },
    });
    ctx.log(`guard run ${i}: cutover ${cutover.url}, admin ${cutover.adminUrl} (pid ${cutover.pid}); backends legacy pid ${legacy.pid}, candidate pid ${candidate.pid}`);
    const initial = await guardStatus(cutover);
    const guardSettings = settingsOf(initial);

    ctx.log(`guard run ${i}: ${RATE} req/s, healthy for ${healthySeconds} s`);
    load = startPacedLoad({
      url: cutover.url,
      rate: RATE,
      connections: CONNECTIONS,
      maxSeconds: healthySeconds + REVERT_TIMEOUT_SECONDS + AFTER_REVERT_MS / 1000 + 5,
      signal,
    });
    await sleep(healthySeconds * 1000, undefined, { signal });
    const healthy = (await guardStatus(cutover)).routes[ROUTE];
    const healthyState = healthy?.state;

    // Place the fault `leadMs` before an evaluation (see the top of this file).
    const intervalMs = guardSettings.intervalMs;
    const lastEvaluation = healthy?.lastVerdict ? Date.parse(healthy.lastVerdict.at) : Date.now();
    const leadMs = Math.round(((i - 0.5) / runs) * intervalMs);
    let plannedAt = lastEvaluation + intervalMs - leadMs;
    while (plannedAt < Date.now() + 20) plannedAt += intervalMs;
    await sleep(plannedAt - Date.now(), undefined, { signal });
    ctx.log(`guard run ${i}: candidate fails every request from now on, ~${leadMs} ms before a guard evaluation (guard said "${healthyState}")`);
    const faultAt = Date.now();
    await setFault(candidate, 'errors');
    let status;
    let revertSeenAt;
    while (Date.now() - faultAt < REVERT_TIMEOUT_SECONDS * 1000) {
      await sleep(POLL_MS, undefined, { signal });
      status = await guardStatus(cutover);
      if (status.routes[ROUTE]?.state === 'reverted') {
        revertSeenAt = Date.now();
        break;
      }
    }
    if (revertSeenAt !== undefined) await sleep(AFTER_REVERT_MS, undefined, { signal });
    const loadFigures = await load.stop();
    load = undefined;
    const [c, l] = await Promise.all([backendCounts(candidate), backendCounts(legacy)]);
    const route = status?.routes[ROUTE];
    const run = measureRun({ run: i, faultAt, revertSeenAt, candidate: c, legacy: l, route, guardLines: guardLogLines(cutover.proc.tail), lastEvaluation, intervalMs });
    if (cutover.proc.exit) throw new Error(`cutover exited during the run: ${JSON.stringify(cutover.proc.exit)}\n  ${cutover.proc.tail.join('\n  ')}`);
    ctx.log(
      run.reverted
        ? `guard run ${i}: reverted (${run.rule}); revert reaction ${run.revertReactionMs} ms, ${run.candidateFailed} candidate 500s`
        : `guard run ${i}: NOT reverted within ${REVERT_TIMEOUT_SECONDS} s`,
    );
    return { ...run, healthyState, load: loadFigures, guardSettings };
  } finally {
    if (load) await load.stop();
    await Promise.all([cutover, legacy, candidate].filter(Boolean).map((p) => ctx.procs.stop(p.proc)));
  }
}

async function guardStatus(cutover) {
  const res = await get(`${cutover.adminUrl}/api/v1/guard`);
  if (res.status !== 200) throw new Error(`GET /api/v1/guard answered ${res.status}: ${res.body.slice(0, 200)}`);
  return JSON.parse(res.body);
}

function settingsOf(s) {
  const { enabled, dryRun, scope, intervalMs, windowSeconds, fastWindowSeconds, minRequests, consecutive, rules } = s;
  return { enabled, dryRun, scope, intervalMs, windowSeconds, fastWindowSeconds, minRequests, consecutive, rules };
}

/** cutover's guard log lines still in the process's output tail: { time (ms), level, msg }. */
function guardLogLines(tail) {
  const out = [];
  for (const line of tail) {
    try {
      const o = JSON.parse(line);
      if (typeof o.msg === 'string' && o.msg.startsWith('guard')) out.push({ time: typeof o.time === 'number' ? o.time : Date.parse(o.time), level: o.level, msg: o.msg });
    } catch {} // not JSON: not a log line of interest
  }
  return out;
}

/** Pure: one run's figures from the backends' records, the guard status and cutover's log lines. */
export function measureRun({ run, faultAt, revertSeenAt, candidate, legacy, route, guardLines, lastEvaluation, intervalMs }) {
  const first = candidate.firstFailureAt;
  const latch = route?.state === 'reverted' ? route.latch : null;
  const since = latch ? Date.parse(latch.since) : null;
  const revertLine = guardLines.find((l) => l.msg.startsWith('guard: reverted'));
  // The breach that led to the revert: the last "breach seen" line at or before the revert.
  const breachSeen = guardLines.filter((l) => l.msg.startsWith('guard: breach seen') && (since === null || l.time <= since)).at(-1);
  const from = (t) => (first !== null && t !== null && t !== undefined ? t - first : null);
  // The guard's first evaluation after the first failure, extrapolated from one it made before
  // (its timer drifts by about a millisecond per tick).
  const nextEvaluation = first !== null ? lastEvaluation + Math.ceil((first - lastEvaluation) / intervalMs) * intervalMs : null;
  return {
    run,
    reverted: latch !== null,
    // The headline: first failing response -> last request the candidate received.
    revertReactionMs: latch ? from(candidate.lastRequestAt) : null,
    faultToFirstFailureMs: first !== null ? first - faultAt : null,
    // Where the failure fell: time left until the next guard evaluation.
    firstFailureToNextEvaluationMs: from(nextEvaluation),
    firstFailureToBreachSeenMs: breachSeen ? from(breachSeen.time) : null,
    firstFailureToLatchMs: from(since),
    // Requests already routed to the candidate when the latch was set, arriving just after it.
    lastRequestAfterLatchMs: latch && since !== null ? candidate.lastRequestAt - since : null,
    firstFailureToRevertSeenMs: from(revertSeenAt ?? null),
    candidateFailed: candidate.failed,
    candidateServed: candidate.served,
    legacyServed: legacy.served,
    rule: latch?.rule ?? null,
    reason: latch?.reason ?? null,
    latch,
    lastVerdict: route?.lastVerdict ?? null,
    revertLogged: revertLine ? { level: revertLine.level, msg: revertLine.msg } : null,
    times: { faultAt, firstFailureAt: first, lastCandidateRequestAt: candidate.lastRequestAt, latchSince: latch?.since ?? null, revertSeenAt: revertSeenAt ?? null },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Pure: min / median / max of each figure over the runs that reverted, and the target count. */
export function summarise(runs) {
  const reverted = runs.filter((r) => r.reverted);
  const stats = (key) => {
    const xs = reverted.map((r) => r[key]).filter((x) => x !== null);
    return xs.length === 0 ? null : { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
  };
  return {
    runs: runs.length,
    reverted: reverted.length,
    withinTarget: reverted.filter((r) => r.revertReactionMs <= GUARD_TARGET_MS).length,
    revertReactionMs: stats('revertReactionMs'),
    firstFailureToNextEvaluationMs: stats('firstFailureToNextEvaluationMs'),
    firstFailureToBreachSeenMs: stats('firstFailureToBreachSeenMs'),
    firstFailureToLatchMs: stats('firstFailureToLatchMs'),
    lastRequestAfterLatchMs: stats('lastRequestAfterLatchMs'),
    candidateFailed: stats('candidateFailed'),
    rules: [...new Set(reverted.map((r) => r.rule))],
  };
}

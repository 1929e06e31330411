// Runs one scenario entry (scenarios.mjs): fresh backends in this process, a fresh cutover
// process with the scenario's config, paced load; a healthy history, then the change at a planned
// moment; GET /api/v1/guard every 50 ms until the guard reverts or the scenario's time is up.
// Returns plain data; measure() turns the records into the table's figures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startScenarioBackend } from './backend.mjs';
import { addressFromLogLine, get } from '../lib/http.mjs';
import { startLoad } from './load.mjs';

const POLL_MS = 50;
const AFTER_REVERT_MS = 1000;
const ROUTE = 'default';
const FAILED = new Set(['error', 'reset', 'timeout', 'unfinished']);

/** Seconds one run of `s` may take at most (the watchdog's share), with start-up and shutdown. */
export function budgetSeconds(s, opts) {
  return phases(s, opts).healthy + phases(s, opts).after + 30;
}

/** Healthy history and the time after the change, shortened by --quick. */
export function phases(s, { quick }) {
  const healthy = quick ? Math.min(s.healthySeconds, 5) : s.healthySeconds;
  const after = quick && !s.shouldRevert ? Math.min(s.seconds, 10) : s.seconds;
  return { healthy, after };
}

/** Plain objects merged into `base`, without writing into either (arrays and scalars replace). */
export function merge(base, over) {
  if (over === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

export function cutoverConfig(s, { legacy, candidate, stateFile }) {
  const backend = (url) => ({ upstreams: [url], timeouts: { connectMs: 2000, responseMs: 30000 } });
  const base = {
    listen: { host: '127.0.0.1', port: 0 },
    backends: { legacy: backend(legacy.url), candidate: backend(candidate.url) },
    routes: [{ name: ROUTE, match: { pathPrefix: '/' }, candidatePercent: s.candidatePercent ?? 10 }],
    admin: { host: '127.0.0.1', port: 0 },
    state: { file: stateFile },
    guard: { webhooks: [] },
    log: { level: 'info', accessLog: false },
  };
  return merge(base, s.config);
}

async function guardStatus(adminUrl) {
  const res = await get(`${adminUrl}/api/v1/guard`, 1000);
  if (res.status !== 200) throw new Error(`GET /api/v1/guard answered ${res.status}`);
  return JSON.parse(res.body);
}

/** One run of scenario `s`. ctx: { procs, root, tmpDir, opts, signal, log }. */
export async function runScenario(s, ctx, label) {
  const { signal } = ctx;
  const { healthy, after } = phases(s, ctx.opts);
  const t0 = Date.now() + 500; // load starts about now; the change is planned from it
  const clock = { changeAt: t0 + healthy * 1000, sinceChange: () => (Date.now() - clock.changeAt) / 1000 };
  const legacy = await startScenarioBackend('legacy', s.legacy ?? (() => ({ status: 200, delayMs: 0 })), clock, s.backendOptions?.legacy);
  const candidate = await startScenarioBackend('candidate', s.candidate, clock, s.backendOptions?.candidate);
  let cutover;
  let load;
  try {
    const dir = join(ctx.tmpDir, label);
    mkdirSync(dir, { recursive: true });
    const config = cutoverConfig(s, { legacy, candidate, stateFile: join(dir, 'state.json') });
    const configFile = join(dir, 'cutover.yaml');
    writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n'); // JSON is YAML
    let url;
    const proc = await ctx.procs.start({
      name: `cutover ${label}`,
      cmd: process.execPath,
      args: [join(ctx.root, 'dist/cli.js'), 'start', '--config', configFile],
      cwd: ctx.root,
      ready: (line) => {
        url ??= addressFromLogLine(line, 'proxy listening');
        const adminUrl = addressFromLogLine(line, 'admin listening');
        return url && adminUrl ? { url, adminUrl } : undefined;
      },
    });
    cutover = { proc, ...proc.readyValue };
    const initial = await guardStatus(cutover.adminUrl);
    const settings = settingsOf(initial, config);

    await sleep(Math.max(0, t0 - Date.now()), undefined, { signal });
    load = startLoad({ url: cutover.url, streams: s.load, spreadSeconds: healthy + after });
    let atChange = null;
    let last = null;
    let revertSeenAt = null;
    let wentDown = false;
    const endAt = clock.changeAt + after * 1000;
    while (Date.now() < endAt) {
      await sleep(POLL_MS, undefined, { signal });
      if (s.candidateGoesDown && !wentDown && Date.now() >= clock.changeAt) {
        wentDown = true;
        await candidate.goDown();
      }
      last = await guardStatus(cutover.adminUrl).catch(() => last);
      if (atChange === null && Date.now() >= clock.changeAt) atChange = last?.routes[ROUTE] ?? null;
      if (last?.routes[ROUTE]?.state === 'reverted') {
        revertSeenAt = Date.now();
        break;
      }
    }
    if (revertSeenAt !== null) await sleep(AFTER_REVERT_MS, undefined, { signal });
    const records = await load.stop();
    load = undefined;
    const final = await guardStatus(cutover.adminUrl).catch(() => last);
    if (proc.exit) throw new Error(`cutover exited during the run: ${JSON.stringify(proc.exit)}\n  ${proc.tail.join('\n  ')}`);
    for (const r of records) {
      // No answer (or cutover's error without a backend): ask the backends which one had it.
      if (r.backend === null) r.backend = candidate.saw(r.id) ? 'candidate' : legacy.saw(r.id) ? 'legacy' : null;
    }
    return measure({ s, label, settings, records, final: final?.routes[ROUTE], atChange, revertSeenAt, changeAt: clock.changeAt, candidate: candidate.state, legacy: legacy.state });
  } finally {
    if (load) await load.stop(0);
    if (cutover) await ctx.procs.stop(cutover.proc);
    await Promise.all([legacy.close(), candidate.close()]);
  }
}

function settingsOf(status, config) {
  const { intervalMs, windowSeconds, fastWindowSeconds, minRequests, confidence, consecutive, scope, revertOnSharedOutage, rules } = status;
  const timeouts = { legacy: config.backends.legacy.timeouts.responseMs, candidate: config.backends.candidate.timeouts.responseMs };
  return { intervalMs, windowSeconds, fastWindowSeconds, minRequests, confidence, consecutive, scope, revertOnSharedOutage, rules, responseMs: timeouts };
}

const count = (rs, pred) => rs.reduce((k, r) => k + (pred(r) ? 1 : 0), 0);

/** Pure: the figures of one run from the client records, the backends' records and the guard status. */
export function measure({ s, label, settings, records, final, atChange, revertSeenAt, changeAt, candidate, legacy }) {
  const latch = final?.state === 'reverted' ? final.latch : null;
  const revertAt = latch ? Date.parse(latch.since) : null;
  const firstBadAt = candidate.firstBadAt;
  const reactionMs = revertAt !== null && firstBadAt !== null ? revertAt - firstBadAt : null;
  const cand = records.filter((r) => r.backend === 'candidate');
  const before = revertAt === null ? cand : cand.filter((r) => r.start < revertAt);
  const byOutcome = (rs) => {
    const o = {};
    for (const r of rs) o[r.outcome] = (o[r.outcome] ?? 0) + 1;
    return o;
  };
  const reverted = latch !== null;
  let verdict;
  if (s.shouldRevert) verdict = !reverted ? 'FAIL' : reactionMs !== null && reactionMs <= s.targetMs ? 'pass' : 'FAIL (late)';
  else verdict = reverted ? 'FAIL' : 'pass';
  return {
    label,
    scenario: s.name,
    shouldRevert: s.shouldRevert,
    reverted,
    rule: latch?.rule ?? null,
    reason: latch?.reason ?? null,
    targetMs: s.shouldRevert ? s.targetMs : null,
    reactionMs,
    candidateFailedBeforeRevert: count(before, (r) => FAILED.has(r.outcome)),
    candidateRequestsBeforeRevert: before.length,
    verdict,
    settings,
    times: {
      changeAt: new Date(changeAt).toISOString(),
      firstBadAt: firstBadAt === null ? null : new Date(firstBadAt).toISOString(),
      revertAt: latch?.since ?? null,
      revertSeenAt: revertSeenAt === null ? null : new Date(revertSeenAt).toISOString(),
    },
    guardAtChange: atChange ? { state: atChange.state, summary: atChange.lastVerdict?.summary ?? null } : null,
    lastVerdict: final?.lastVerdict ? { kind: final.lastVerdict.kind, summary: final.lastVerdict.summary } : null,
    client: {
      requests: records.length,
      candidate: byOutcome(cand),
      legacy: byOutcome(records.filter((r) => r.backend === 'legacy')),
      unattributed: byOutcome(records.filter((r) => r.backend === null)),
      candidateAfterRevert: revertAt === null ? 0 : cand.length - before.length,
      // Per load stream: what the clients got (status codes, or how it ended without one).
      streams: Object.fromEntries(
        [...new Set(records.map((r) => r.stream))].map((st) => {
          const got = {};
          for (const r of records) if (r.stream === st) got[r.status ?? r.outcome] = (got[r.status ?? r.outcome] ?? 0) + 1;
          return [st, got];
        }),
      ),
    },
    backends: { candidate: { served: candidate.served, bad: candidate.bad }, legacy: { served: legacy.served, bad: legacy.bad } },
  };
}

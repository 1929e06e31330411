// The drain scenario of issue 12: at 400 req/s (mixed: fast requests, 800 ms requests, a 10 MB
// upload every 200th request; every other request on a keep-alive connection, the others on new
// connections), a cutover receives SIGTERM mid-load while a second cutover on another port takes
// over. The client behaves like a load balancer: it keeps sending to the draining one for
// REACTION_MS after the signal (the time a balancer takes to notice /readyz), then sends to the
// other. Each drain is a fresh cutover. Counted per drain, for the requests sent to the draining
// one: answered, refused (no connection: the listener had closed, the request never left the
// client), and the losses: reset, hung up, other (errors, or an upload that arrived incomplete).
// Returns plain data; report.mjs renders it.
import { startBackend } from '../lib/backends.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { outcomeLoad, tally } from '../lib/outcome-load.mjs';

const RATE = 400;
const DRAIN_SECONDS = 2;
const GRACE_SECONDS = 10;
const SIGNAL_AT_MS = 2000;
const REACTION_MS = 1000; // half the drain period
const LOAD_SECONDS = 5;
export const DRAINS = 5;

export function drainBudgetSeconds() {
  return DRAINS * (LOAD_SECONDS + DRAIN_SECONDS + GRACE_SECONDS + 20) + 30;
}

const kind = (seq) => (seq % 200 === 7 ? 'upload' : seq % 10 === 3 ? 'slow' : 'fast');

export async function drainScenario(ctx) {
  const result = {
    scenario: 'drain',
    rate: RATE,
    drainSeconds: DRAIN_SECONDS,
    graceSeconds: GRACE_SECONDS,
    signalAtMs: SIGNAL_AT_MS,
    reactionMs: REACTION_MS,
    loadSeconds: LOAD_SECONDS,
    drains: [],
    failures: [],
    notes: [],
  };
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const extra = { shutdownDrainSeconds: DRAIN_SECONDS, shutdownGraceSeconds: GRACE_SECONDS };
  const takeover = await startCutover(ctx, { legacy, candidate, candidatePercent: 10, name: 'cutover-takeover', admin: true, extra });
  try {
    for (let i = 1; i <= DRAINS; i++) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      try {
        result.drains.push(await oneDrain(ctx, i, { legacy, candidate, takeover, extra }));
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        result.failures.push(`drain ${i}: ${err.message}`);
      }
    }
  } finally {
    await ctx.procs.stop(takeover.proc);
  }
  const lost = result.drains.map((d) => d.draining.reset + d.draining.hangup + d.draining.other);
  result.summary = { drains: result.drains.length, lostPerDrain: lost, lostTotal: lost.reduce((a, b) => a + b, 0) };
  return result;
}

async function oneDrain(ctx, i, { legacy, candidate, takeover, extra }) {
  const draining = await startCutover(ctx, { legacy, candidate, candidatePercent: 10, name: `cutover-drain-${i}`, admin: true, extra });
  let signalledAt;
  let exitedAt;
  const exited = draining.proc.exited.then((e) => {
    exitedAt = performance.now();
    return e;
  });
  const started = performance.now();
  const { records, shed } = await outcomeLoad({
    rate: RATE,
    seconds: LOAD_SECONDS,
    kind,
    target: (elapsed) => (elapsed < SIGNAL_AT_MS + REACTION_MS ? draining.url : takeover.url),
    onTick: (elapsed) => {
      if (signalledAt === undefined && elapsed >= SIGNAL_AT_MS) {
        signalledAt = performance.now();
        if (!draining.proc.exit) process.kill(draining.pid, 'SIGTERM');
      }
    },
  });
  if (draining.proc.exit && exitedAt < signalledAt) throw new Error(`the draining cutover exited before the signal; its last output:\n  ${draining.proc.tail.join('\n  ')}`);
  const exit = await Promise.race([exited, new Promise((r) => setTimeout(() => r({ code: 'still running' }), (GRACE_SECONDS + 10) * 1000))]);
  if (exit.code === 'still running') await ctx.procs.stop(draining.proc);
  const toDraining = records.filter((r) => r.base === draining.url);
  const afterSignal = toDraining.filter((r) => r.sentAt >= SIGNAL_AT_MS);
  const uploads = toDraining.filter((r) => r.kind === 'upload');
  const losses = toDraining.filter((r) => ['reset', 'hangup', 'other'].includes(r.outcome)).slice(0, 5);
  ctx.log(`drain ${i}: ${JSON.stringify(tally(toDraining))}`);
  return {
    drain: i,
    draining: tally(toDraining),
    sentDuringDrain: afterSignal.length,
    answeredWithConnectionClose: toDraining.filter((r) => r.connection === 'close').length,
    uploads: { sent: uploads.length, answered: uploads.filter((r) => r.outcome === 'answered').length },
    takeover: tally(records.filter((r) => r.base === takeover.url)),
    shed,
    exitCode: exit.code,
    exitMsAfterSignal: exitedAt !== undefined ? Math.round(exitedAt - signalledAt) : null,
    stateFlushed: draining.proc.tail.some((l) => l.includes('shutdown: done, state flushed')),
    lossExamples: losses.map((r) => ({ seq: r.seq, kind: r.kind, keepAlive: r.keepAlive, sentAtMs: Math.round(r.sentAt), endedAtMs: Math.round(r.endedAt), error: r.error })),
    elapsedMs: Math.round(performance.now() - started),
  };
}

// The restart scenario of issue 12: one cutover with `workers: 1` under the drain scenario's mixed
// 400 req/s load (fast, 800 ms and 10 MB uploads; keep-alive and new connections), restarted with
// SIGUSR2 RESTARTS times, RESTART_EVERY_MS apart. Each restart forks a new worker, waits until it
// listens, then drains the old one; the primary keeps the listening socket (same PID). Counted for
// every request: answered, refused, and the losses (reset, hung up, other), per restart window.
import { startBackend } from '../lib/backends.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { get } from '../lib/http.mjs';
import { outcomeLoad, tally } from '../lib/outcome-load.mjs';

const RATE = 400;
const RESTARTS = Number(process.env.RESTARTS ?? 5);
const FIRST_AT_MS = 2000;
const RESTART_EVERY_MS = 4000;
const LOAD_SECONDS = (FIRST_AT_MS + 5 * RESTART_EVERY_MS) / 1000 + 2;

export const restartBudgetSeconds = () => LOAD_SECONDS + 60;

const kind = (seq) => (seq % 200 === 7 ? 'upload' : seq % 10 === 3 ? 'slow' : 'fast');

export async function restartScenario(ctx) {
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const cutover = await startCutover(ctx, {
    legacy,
    candidate,
    candidatePercent: 10,
    name: 'cutover-restart',
    admin: true,
    workers: 1,
    extra: { shutdownDrainSeconds: 2, shutdownGraceSeconds: 10 },
  });
  const signals = [];
  try {
    const { records, shed } = await outcomeLoad({
      rate: RATE,
      seconds: LOAD_SECONDS,
      kind,
      target: () => cutover.url,
      onTick: (elapsed) => {
        const due = signals.length < RESTARTS && elapsed >= FIRST_AT_MS + signals.length * RESTART_EVERY_MS;
        if (due && !cutover.proc.exit) {
          signals.push(Math.round(elapsed));
          process.kill(cutover.pid, 'SIGUSR2');
        }
      },
    });
    const windows = signals.map((at, i) => {
      const until = signals[i + 1] ?? Infinity;
      const t = tally(records.filter((r) => r.sentAt >= at && r.sentAt < until));
      return { restart: i + 1, atMs: at, ...t, lost: t.reset + t.hangup + t.other };
    });
    // Workers are numbered from 1 as the primary forks them: after n restarts the one serving is n + 1.
    const status = JSON.parse((await get(`${cutover.adminUrl}/api/v1/status`)).body);
    const restarts = Math.max(...(status.workers ?? []).map((w) => Number(w.id))) - 1;
    return {
      scenario: 'restart',
      rate: RATE,
      restarts: RESTARTS,
      restartsLogged: restarts,
      samePid: !cutover.proc.exit,
      total: tally(records),
      shed,
      windows,
    };
  } finally {
    await Promise.all([cutover, legacy, candidate].map((p) => ctx.procs.stop(p.proc)));
  }
}

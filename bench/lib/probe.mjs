// The bench's side of bench/lib/loop-delay-probe.mjs: mark the end of a phase in every process of a
// cutover (SIGWINCH to each), read back what they wrote, and find a process's children (the
// workers of a primary) from /proc.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A directory for one cutover's probe lines. */
export function probeDir(ctx, name) {
  const dir = join(ctx.tmpDir, `probe-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The pids of `pid`'s children (node:cluster workers), from /proc; [] when there are none. */
export function childPids(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * End the current phase in every process `pids` (each appends its figures since the last mark) and
 * wait (up to 1 s) until each has written; resolves { [pid]: line }.
 */
export async function markPhase(dir, pids) {
  const before = linesByPid(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGWINCH');
    } catch {}
  }
  const deadline = performance.now() + 1000;
  for (;;) {
    const now = linesByPid(dir);
    const fresh = Object.fromEntries(pids.filter((p) => (now[p]?.length ?? 0) > (before[p]?.length ?? 0)).map((p) => [p, now[p].at(-1)]));
    if (Object.keys(fresh).length === pids.length || performance.now() > deadline) return fresh;
    await sleep(20);
  }
}

function linesByPid(dir) {
  const file = join(dir, 'loop-delay.jsonl');
  const out = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const l = JSON.parse(line);
    (out[l.pid] ??= []).push(l);
  }
  return out;
}

// The bench's child processes: started (optionally under taskset), waited for until ready, and
// always stopped by PID: SIGTERM, then SIGKILL after a grace period. A last synchronous SIGKILL
// runs on process exit for anything still alive, so an error or Ctrl-C leaves nothing behind.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const TAIL_LINES = 30;

export class Procs {
  #live = new Set();

  constructor() {
    process.on('exit', () => this.killAllSync());
  }

  /**
   * Start `cmd args` and wait until it is ready: `ready(line)` is called for each output line
   * (stdout and stderr) and its first non-undefined return is the ready value; or `probe()` is
   * polled every 100 ms until it returns non-undefined. Rejects when the process exits first or
   * after `timeoutMs`, with the end of its output in the message. `env`: variables added to ours.
   */
  async start({ name, cmd, args, cwd, env, ready, probe, timeoutMs = 10_000 }) {
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
    const proc = { name, pid: child.pid, child, tail: [], exit: undefined, readyValue: undefined };
    proc.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exit = { code, signal };
        this.#live.delete(proc);
        resolve(proc.exit);
      });
      child.once('error', (err) => {
        proc.exit = { code: null, signal: null, error: err.message };
        this.#live.delete(proc);
        resolve(proc.exit);
      });
    });
    if (child.pid !== undefined) this.#live.add(proc);
    // Keep draining both pipes for the whole life of the child: a full pipe would stall it.
    let onLine = () => {};
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        proc.tail.push(line);
        if (proc.tail.length > TAIL_LINES) proc.tail.shift();
        onLine(line);
      });
    }
    child.stdin.on('error', () => {}); // EPIPE when the child exits; nothing to do

    const deadline = Date.now() + timeoutMs;
    const readyValue = await new Promise((resolve, reject) => {
      const fail = (why) => {
        cleanup();
        reject(new Error(`${name} (${[cmd, ...args].join(' ')}) ${why}${proc.tail.length ? `; its last output:\n  ${proc.tail.join('\n  ')}` : ''}`));
      };
      const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
      let polling = true;
      const cleanup = () => {
        clearTimeout(timer);
        polling = false;
        onLine = () => {};
      };
      // 'close' (pipes drained) can trail 'exit': give the last lines a moment to arrive.
      const closed = new Promise((r) => child.once('close', r));
      proc.exited
        .then((e) => Promise.race([closed, sleep(200, undefined, { ref: false })]).then(() => e))
        .then((e) => fail(e.error ? `could not start: ${e.error}` : `exited (code ${e.code}, signal ${e.signal}) before it was ready`));
      if (ready) {
        onLine = (line) => {
          const value = ready(line);
          if (value !== undefined) {
            cleanup();
            resolve(value);
          }
        };
      }
      if (probe) {
        (async () => {
          while (polling && Date.now() < deadline) {
            const value = await probe().catch(() => undefined);
            if (!polling) return;
            if (value !== undefined) {
              cleanup();
              return resolve(value);
            }
            await sleep(100);
          }
        })();
      }
    }).catch(async (err) => {
      await this.stop(proc);
      throw err;
    });
    proc.readyValue = readyValue;
    return proc;
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves with how it ended. */
  async stop(proc, graceMs = 5000) {
    if (!proc || proc.exit || proc.pid === undefined) return proc?.exit;
    signal(proc.pid, 'SIGTERM');
    const timedOut = Symbol('timeout');
    // Unref'd: a timer that lost the race must not keep the bench alive for its full length.
    if ((await Promise.race([proc.exited, sleep(graceMs, timedOut, { ref: false })])) === timedOut) {
      signal(proc.pid, 'SIGKILL');
      await Promise.race([proc.exited, sleep(2000, undefined, { ref: false })]);
      if (proc.exit) proc.exit.killed = true;
    }
    return proc.exit;
  }

  async stopAll() {
    await Promise.all([...this.#live].map((p) => this.stop(p)));
  }

  get live() {
    return [...this.#live];
  }

  /** Last resort on exit: no awaiting possible here. */
  killAllSync() {
    for (const proc of this.#live) signal(proc.pid, 'SIGKILL');
  }
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (err.code !== 'ESRCH') throw err;
  }
}

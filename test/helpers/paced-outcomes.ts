// A paced, bounded HTTP load that records what happened to every request it sent, for tests that
// must account for each one (a drain that loses nothing). node:http on purpose: it tells a reset
// (RST: `read ECONNRESET`) from a hang-up (FIN before any response: "socket hang up") and from a
// refused connection (ECONNREFUSED: nothing listened, the request never left the client).
import { Agent, request, type ClientRequest } from 'node:http';

export type Outcome =
  | 'answered' // a status line and the whole body
  | 'refused' // no connection: nothing was listening
  | 'reset' // the connection was reset (RST) before the whole response came
  | 'hangup' // the connection closed (FIN) before the whole response came
  | 'other'; // anything else (see `errors`)

export interface RequestRecord {
  /** 0-based, in the order sent. */
  seq: number;
  keepAlive: boolean;
  path: string;
  /** performance.now() when it was sent and when it ended. */
  sentAt: number;
  endedAt: number;
  outcome: Outcome;
  status?: number;
  /** The response's Connection header. */
  connection?: string;
  error?: string;
}

export interface PacedLoadOptions {
  url: string;
  rate: number;
  seconds: number;
  /**
   * Idle keep-alive connections kept for reuse by every other request (the rest each open a new
   * connection). Never a queue: a request that finds no idle connection opens one at once, so a
   * request leaves the client when it is sent.
   */
  keepAliveSockets: number;
  /** The path of request number `seq`. */
  path: (seq: number) => string;
  /** Sends no more once it returns true (checked on every tick, before sending what is due). */
  stopWhen?: () => boolean;
}

/** Sends `rate` req/s for `seconds` (every other one on a fresh connection); resolves once every request has an outcome. */
export async function pacedLoad(opts: PacedLoadOptions): Promise<RequestRecord[]> {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: opts.keepAliveSockets });
  const records: RequestRecord[] = [];
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  let seq = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      if (elapsed >= opts.seconds * 1000 || opts.stopWhen?.()) {
        clearInterval(timer);
        return resolve();
      }
      for (const due = Math.floor((opts.rate * elapsed) / 1000); seq < due; seq++) pending.push(one(seq));
    }, 2);
  });
  await Promise.all(pending);
  agent.destroy();
  return records.sort((a, b) => a.seq - b.seq);

  function one(n: number): Promise<void> {
    const keepAlive = n % 2 === 0;
    const path = opts.path(n);
    const r: RequestRecord = { seq: n, keepAlive, path, sentAt: performance.now(), endedAt: 0, outcome: 'other' };
    records.push(r);
    return new Promise<void>((resolve) => {
      let req: ClientRequest | undefined;
      const end = (outcome: Outcome, error?: Error & { code?: string; syscall?: string }) => {
        if (r.endedAt !== 0) return;
        r.endedAt = performance.now();
        r.outcome = outcome;
        if (error) r.error = `${error.code ?? ''} ${error.syscall ?? ''} ${error.message}`.trim();
        resolve();
      };
      req = request(`${opts.url}${path}`, { agent: keepAlive ? agent : false, timeout: 20_000 }, (res) => {
        r.status = res.statusCode;
        r.connection = res.headers.connection;
        res.on('data', () => {});
        res.on('end', () => end('answered'));
        res.on('error', (err) => end(classify(err), err));
        res.on('aborted', () => end('hangup', new Error('response aborted')));
      });
      req.on('timeout', () => req?.destroy(new Error('no answer within 20 s')));
      req.on('error', (err) => end(classify(err), err));
      req.end();
    });
  }
}

function classify(err: Error & { code?: string; syscall?: string }): Outcome {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'ECONNRESET' && err.message === 'socket hang up') return 'hangup';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
  return 'other';
}

/** How many records have each outcome. */
export function tally(records: RequestRecord[]): Record<Outcome, number> {
  const t: Record<Outcome, number> = { answered: 0, refused: 0, reset: 0, hangup: 0, other: 0 };
  for (const r of records) t[r.outcome]++;
  return t;
}

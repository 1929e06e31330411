// A paced, mixed HTTP load that records what happened to every request, for the drain scenario:
// which target it went to, and whether it was answered (whole body), refused (ECONNREFUSED: no
// connection, the request never left), reset (RST on an open connection), hung up (closed before
// the response) or failed otherwise. node:http, because it tells those apart.
// Every other request uses a keep-alive connection (never queued: one is opened when none is
// idle), the others a new connection each. Bounded: `seconds` long, at most `maxInFlight` open
// (beyond that a due request is counted as shed, not sent).
import { Agent, request } from 'node:http';

const UPLOAD = Buffer.alloc(10 * 1024 * 1024, 0x61);

/**
 * `target(elapsedMs)` says where each request goes (a base URL); `kind(seq)` is 'fast', 'slow'
 * (the backend waits 800 ms) or 'upload' (a 10 MB POST the backend counts). Resolves
 * { records, shed } once every request sent has an outcome.
 */
export async function outcomeLoad({ rate, seconds, target, kind, maxInFlight = 2000, onTick }) {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 32 });
  const records = [];
  const pending = [];
  let shed = 0;
  let inFlight = 0;
  const start = performance.now();
  let seq = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      onTick?.(elapsed);
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        return resolve();
      }
      for (const due = Math.floor((rate * elapsed) / 1000); seq < due; seq++) {
        if (inFlight >= maxInFlight) shed++;
        else pending.push(one(seq, target(elapsed), kind(seq)));
      }
    }, 1);
  });
  await Promise.all(pending);
  agent.destroy();
  return { records, shed };

  function one(n, base, k) {
    inFlight++;
    const keepAlive = n % 2 === 0;
    const r = { seq: n, base, kind: k, keepAlive, sentAt: performance.now() - start, outcome: 'other' };
    records.push(r);
    return new Promise((resolve) => {
      const end = (outcome, err) => {
        if (r.endedAt !== undefined) return;
        r.endedAt = performance.now() - start;
        r.outcome = outcome;
        if (err) r.error = `${err.code ?? ''} ${err.syscall ?? ''} ${err.message}`.trim();
        inFlight--;
        resolve();
      };
      const upload = k === 'upload';
      const req = request(`${base}/${k}/${n}`, { method: upload ? 'POST' : 'GET', agent: keepAlive ? agent : false, timeout: 30_000 }, (res) => {
        r.status = res.statusCode;
        r.connection = res.headers.connection;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          // An upload is correct when the backend counted every byte of it.
          if (upload && res.statusCode === 200 && JSON.parse(body).bytes !== UPLOAD.length) return end('other', new Error(`upload arrived with ${JSON.parse(body).bytes} bytes`));
          end('answered');
        });
        res.on('error', (err) => end(classify(err), err));
        res.on('aborted', () => end('hangup', new Error('response aborted')));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', (err) => end(classify(err), err));
      req.end(upload ? UPLOAD : undefined);
    });
  }
}

function classify(err) {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'ECONNRESET' && err.message === 'socket hang up') return 'hangup';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
  return 'other';
}

/** Count of each outcome (answered, refused, reset, hangup, other) in `records`. */
export function tally(records) {
  const t = { sent: records.length, answered: 0, refused: 0, reset: 0, hangup: 0, other: 0 };
  for (const r of records) t[r.outcome]++;
  return t;
}

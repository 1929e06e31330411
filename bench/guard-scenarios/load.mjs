// The scenarios' load: open-loop streams at a fixed rate, spread evenly over time (a 1 ms timer
// sends what is due, as bench/lib/paced-load.mjs does), over keep-alive undici pools. Unlike the
// bench's paced load it keeps one record per request: when it started and ended, what the client
// saw, and which backend served it (the x-cutover-backend response header; for cutover's own
// 502/504 the `backend` field of its JSON error), so that failures can be put on the candidate.
//
// Stream kinds:
//   { kind: 'http', rate, path, headers, timeoutMs, abort: { share, afterMs } }
//     timeoutMs: the client gives up (a failure: 'timeout'); abort: a share of the clients walks
//     away on purpose after afterMs ('aborted', not a failure: nothing was owed yet).
//   { kind: 'dup-host', count }   raw requests with two Host headers, spread over the run
//   { kind: 'ws-refused', count } raw WebSocket upgrades whose sockets are kept open until the end
import { connect } from 'node:net';
import { Pool } from 'undici';
import { ID_HEADER } from './backend.mjs';

const SERVED_BY = 'x-cutover-backend';
const END = Symbol('end of the scenario');
const GAVE_UP = Symbol('client timeout');
const WALKED_AWAY = Symbol('deliberate abort');

/**
 * Start every stream against `url`. `spreadSeconds`: the time counted streams are spread over.
 * Returns { stop(graceMs) -> Promise<records> }.
 */
export function startLoad({ url, streams, spreadSeconds }) {
  const records = [];
  const stoppers = [];
  streams.forEach((s, i) => {
    const name = `s${i}`;
    if (s.kind === 'http') stoppers.push(httpStream(url, s, name, records));
    else stoppers.push(rawStream(url, s, name, records, spreadSeconds));
  });
  return {
    async stop(graceMs = 1500) {
      for (const s of stoppers) s.halt();
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && records.some((r) => r.end === null)) await new Promise((r) => setTimeout(r, 25));
      await Promise.all(stoppers.map((s) => s.close()));
      const now = Date.now();
      for (const r of records) {
        if (r.end === null) Object.assign(r, { end: now, outcome: 'unfinished' });
      }
      return records;
    },
  };
}

function record(records, stream, id) {
  const r = { stream, id, start: Date.now(), end: null, outcome: null, status: null, backend: null, code: null };
  records.push(r);
  return r;
}

function httpStream(url, s, name, records) {
  // Enough connections that requests never queue behind hung ones in the client.
  const pool = new Pool(url, { connections: 2048, pipelining: 1, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const controllers = new Set();
  const start = performance.now();
  let due = 0;
  let n = 0;
  const one = () => {
    const id = `${name}-${n++}`;
    const r = record(records, name, id);
    const ac = new AbortController();
    controllers.add(ac);
    let timer;
    if (s.abort && Math.random() < s.abort.share) timer = setTimeout(() => ac.abort(WALKED_AWAY), s.abort.afterMs);
    else if (s.timeoutMs) timer = setTimeout(() => ac.abort(GAVE_UP), s.timeoutMs);
    const finish = (fields) => {
      clearTimeout(timer);
      controllers.delete(ac);
      if (r.end === null) Object.assign(r, { end: Date.now(), ...fields });
    };
    pool
      .request({ path: s.path ?? '/', method: 'GET', headers: { ...s.headers, [ID_HEADER]: id }, signal: ac.signal })
      .then(async (res) => {
        let backend = res.headers[SERVED_BY] ?? null;
        if (res.statusCode >= 500 && backend === null) {
          // cutover's own error (502 refused/reset, 504 timeout) names the backend in its body.
          try {
            backend = JSON.parse(await res.body.text()).error?.backend ?? null;
          } catch {}
        } else await res.body.dump();
        finish({ outcome: res.statusCode >= 500 ? 'error' : 'ok', status: res.statusCode, backend });
      })
      .catch((err) => {
        const reason = ac.signal.aborted ? ac.signal.reason : undefined;
        const outcome = reason === GAVE_UP ? 'timeout' : reason === WALKED_AWAY ? 'aborted' : reason === END ? 'unfinished' : 'reset';
        finish({ outcome, code: err.code ?? err.name });
      });
  };
  const timer = setInterval(() => {
    const target = Math.floor((s.rate * (performance.now() - start)) / 1000);
    for (; due < target; due++) one();
  }, 1);
  return {
    halt: () => clearInterval(timer),
    async close() {
      for (const ac of controllers) ac.abort(END);
      await pool.destroy().catch(() => {});
    },
  };
}

const DUP_HOST = (id) => `GET /dup HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n${ID_HEADER}: ${id}\r\nConnection: close\r\n\r\n`;
const UPGRADE = (id) =>
  `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${ID_HEADER}: ${id}\r\n\r\n`;

/** Raw-socket requests, `count` of them spread evenly over `spreadSeconds`; a head of a response ends each. */
function rawStream(url, s, name, records, spreadSeconds) {
  const { hostname, port } = new URL(url);
  const sockets = new Set();
  let n = 0;
  const one = () => {
    const id = `${name}-${n++}`;
    const r = record(records, name, id);
    const sock = connect(Number(port), hostname, () => sock.write(s.kind === 'dup-host' ? DUP_HOST(id) : UPGRADE(id)));
    sockets.add(sock);
    let head = '';
    sock.on('data', (d) => {
      if (r.end !== null) return;
      head += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!m || !head.includes('\r\n\r\n')) return;
      const status = Number(m[1]);
      const backend = /\r\nx-cutover-backend: *(\w+)/i.exec(head)?.[1] ?? null;
      Object.assign(r, { end: Date.now(), outcome: status >= 500 ? 'error' : 'ok', status, backend });
      // Two Host headers: cutover closes. A refused upgrade: the client keeps its socket open.
    });
    sock.on('error', (err) => r.end === null && Object.assign(r, { end: Date.now(), outcome: 'reset', code: err.code }));
    sock.on('close', () => {
      sockets.delete(sock);
      if (r.end === null) Object.assign(r, { end: Date.now(), outcome: 'reset', code: 'closed' });
    });
  };
  // Spread over 90 % of the run, so that all of them are sent (and answered) before it ends.
  const every = (spreadSeconds * 900) / s.count;
  const timer = setInterval(() => (n < s.count ? one() : clearInterval(timer)), every);
  one();
  return {
    halt: () => clearInterval(timer),
    async close() {
      for (const sock of sockets) sock.destroy();
    },
  };
}

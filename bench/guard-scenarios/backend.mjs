// A scenario backend: a node:http server in this process whose answer to each request is chosen
// by the scenario's behaviour function, from the seconds since the scenario's change (negative
// during the healthy history). It records which request ids it saw (so that a client that never
// got an answer can still tell which backend had its request) and when it first behaved badly.
import { createServer } from 'node:http';

/** The answers a behaviour can give. `bad` marks what the guard is expected to catch. */
export const ok = (ms = 0) => ({ status: 200, delayMs: ms, bad: false });
export const status = (code, ms = 0) => ({ status: code, delayMs: ms, bad: code >= 500 });
export const slow = (ms) => ({ status: 200, delayMs: ms, bad: true });
export const hang = () => ({ hang: true, bad: true });
export const reset = () => ({ reset: true, bad: true });

/** Request header carrying the load generator's request id. */
export const ID_HEADER = 'x-scenario-req';

/**
 * Start a backend. `behave(t, req)` returns one of the answers above; `clock.sinceChange()` gives
 * t. `upgrade`: 'refuse' answers 403 to a WebSocket upgrade at once; otherwise upgrades are not
 * handled (Node closes the socket).
 */
export async function startScenarioBackend(name, behave, clock, { upgrade } = {}) {
  const seen = new Set();
  const sockets = new Set();
  const state = { name, served: 0, bad: 0, firstBadAt: null, url: '' };
  const markBad = () => {
    state.bad++;
    state.firstBadAt ??= Date.now();
  };
  const server = createServer((req, res) => {
    const id = req.headers[ID_HEADER];
    if (id) seen.add(id);
    state.served++;
    const a = behave(clock.sinceChange(), req);
    if (a.bad) markBad();
    if (a.hang) return; // accepted, never answered; the socket is destroyed when the scenario ends
    if (a.reset) return req.socket.destroy();
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(a.status, { 'content-type': 'text/plain', 'content-length': name.length });
      res.end(name);
    };
    if (a.delayMs > 0) setTimeout(answer, a.delayMs);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket) => {
    const id = req.headers[ID_HEADER];
    if (id) seen.add(id);
    state.served++;
    if (upgrade === 'refuse') socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  state.url = `http://127.0.0.1:${server.address().port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const done = new Promise((r) => server.close(r));
    for (const s of sockets) s.destroy();
    await done;
  };
  return {
    state,
    get url() {
      return state.url;
    },
    saw: (id) => seen.has(id),
    /** Stop listening and cut every connection: from now on connecting is refused. */
    async goDown() {
      state.firstBadAt ??= Date.now();
      await close();
    },
    close,
  };
}

// The data plane: a node:http server. Per request: maintenance check, route match, one split
// decision, dispatch to a node of the chosen cluster. Nothing else runs here.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { Server, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import type HttpProxy from 'http-proxy';
import type { BackendName } from '../config/schema.js';
import type { ErrorKind } from '../stats/series.js';
import type { Control } from '../control/control.js';
import type { Logger } from '../log.js';
import { decide } from '../split/decide.js';
import { matchRoute, stickyKey, type CompiledRoute } from '../split/route.js';
import type { Series } from '../stats/series.js';
import type { Stats } from '../stats/store.js';
import { errorKind, Exchange, type ExchangeOptions } from './forward.js';
import { upstreamHeaders } from './headers.js';
import { judgeOverride } from './override.js';
import { upgradeRequestHeaders } from './upgrade-headers.js';
import { recordedLatencyUs } from './error-kinds.js';
import { applyServerLimits, MAX_REQUEST_HEADERS, tooManyHeaders } from './limits.js';
import { BAD_PATH, normalizeTarget } from './normalize-path.js';
import { oneAtATime } from './pipeline.js';
import { isWebSocketUpgrade, plainResponse } from './plain-upgrade.js';
import { acceptQueueLength } from './accept-queue.js';
import { onClientError } from './client-errors.js';
import { sendError } from './respond.js';
import type { RoutingTable } from './table.js';

/** What a 405 to CONNECT lists in Allow: the methods cutover proxies. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** The exchange a response belongs to, told when the response closes. */
const EXCHANGE = Symbol('exchange');
type Tracked = ServerResponse & { [EXCHANGE]?: Exchange };

export interface ProxyServerOptions {
  table: RoutingTable;
  control: Control;
  stats: Stats;
  logger: Logger;
  /** Monotonic milliseconds. */
  now?: () => number;
}

export class ProxyServer {
  readonly server: HttpServer;
  table: RoutingTable;
  /** Requests received and not yet answered (or abandoned). */
  inFlight = 0;
  private readonly control: Control;
  private readonly stats: Stats;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** http-proxy for WebSocket upgrades, created (and the module loaded) at the first one. */
  private wsProxy: HttpProxy | undefined;
  private readonly upgraded = new Set<Duplex>();
  /** Upgrades waiting for the upstream's answer: their timeout and their one record. */
  private readonly upgradeTimers = new Map<Duplex, { timer: NodeJS.Timeout; record: (status: number, error: ErrorKind | null) => void }>();
  private readonly exchangeOptions: ExchangeOptions;

  constructor(opts: ProxyServerOptions) {
    this.table = opts.table;
    this.control = opts.control;
    this.stats = opts.stats;
    this.logger = opts.logger;
    this.now = opts.now ?? (() => performance.now());
    this.exchangeOptions = {
      servedByHeader: this.table.servedByHeader,
      clientSendMs: this.table.clientSendMs,
      now: this.now,
      onDone: this.accessLog,
      onRefused: (x, status) => this.stats.answer(x.routeName, status),
      closing: false,
    };
    this.server = createServer(oneAtATime(this.handle, this.closed));
    applyServerLimits(this.server);
    this.server.on('upgrade', this.upgrade);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket, this.refuseInProgress));
    // CONNECT asks for a tunnel (RFC 9110 section 9.3.6): node:http hands it over as 'connect',
    // never as a request, so without this listener it was dropped without an answer.
    this.server.on('connect', this.refuseConnect);
  }

  private get ws(): HttpProxy {
    if (this.wsProxy) return this.wsProxy;
    const httpProxy = createRequire(import.meta.url)('http-proxy') as typeof HttpProxy;
    const ws = (this.wsProxy = httpProxy.createProxyServer({ ws: true, xfwd: false })); // X-Forwarded-* come from upgradeRequestHeaders
    ws.on('error', () => {}); // errors are handled by each ws() callback
    ws.on('proxyReqWs', (proxyReq, _req, socket: Duplex) => {
      // The upstream answered: 101 (upgraded), or a refusal that http-proxy passes on as it is.
      const answered = (status: number) => {
        const u = this.upgradeTimers.get(socket);
        if (!u) return;
        clearTimeout(u.timer);
        this.upgradeTimers.delete(socket);
        u.record(status, null);
      };
      proxyReq.once('upgrade', () => answered(101));
      proxyReq.once('response', (r) => answered(r.statusCode ?? 0));
      // The client went away (or timed out) before the upstream answered: abandon the upstream too.
      socket.once('close', () => proxyReq.destroy());
    });
    return ws;
  }

  /** Swap in a new table; the next request uses it. */
  setTable(table: RoutingTable): void {
    this.table = table;
    this.exchangeOptions.servedByHeader = table.servedByHeader;
    this.exchangeOptions.clientSendMs = table.clientSendMs;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** A response is over (finished or abandoned): the one 'close' listener each response gets. */
  private readonly closed = (res: ServerResponse): void => {
    this.inFlight--;
    (res as Tracked)[EXCHANGE]?.clientClosed();
  };

  /** An answer cutover gives itself, without a backend: counted per route ('' when none matched). */
  private answer(res: ServerResponse, route: string, status: number, code: string, message: string, headers?: Record<string, string>): void {
    this.stats.answer(route, status);
    sendError(res, status, code, message, {}, headers);
  }

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    // While shutting down, a request on an existing keep-alive connection is served, then the
    // connection closes (`Connection: close`), so clients reconnect to another replica.
    if (this.exchangeOptions.closing) res.shouldKeepAlive = false;
    const m = this.control.maintenance;
    if (m.enabled) return this.answer(res, '', 503, 'maintenance', m.message, { 'retry-after': String(m.retryAfterSeconds) });
    const table = this.table;
    const url = req.url ?? '/';
    if (url.charCodeAt(0) !== 47 /* / */ || req.method === 'CONNECT') {
      return this.answer(res, '', 400, 'bad_request_target', 'cutover accepts origin-form request targets only (a path starting with /)');
    }
    if (tooManyHeaders(req)) return this.answer(res, '', 431, 'too_many_headers', `more than ${MAX_REQUEST_HEADERS} header fields`);
    const target = normalizeTarget(url);
    if (!target) return this.answer(res, '', 400, 'bad_path', BAD_PATH);
    const route = matchRoute(table.routes, req.method ?? 'GET', target.path, req.headers);
    if (!route) return this.answer(res, '', 404, 'no_route', `no route matches ${req.method} ${target.path}`);
    const chosen = this.select(route, req, table);
    if (typeof chosen === 'string') return this.refuseOverride(res, route.name, chosen);
    const { backend, series } = chosen;
    const cluster = table.clusters[backend];
    const headers: string[] = [];
    const requestId = upstreamHeaders(req, headers);
    // RFC 9112 section 3.2: a request with more than one Host field gets 400 (before any backend).
    if (requestId === undefined) return this.answer(res, '', 400, 'bad_host', 'the request has more than one Host header');
    const h = req.headers;
    const hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
    const x = new Exchange(
      req,
      res,
      backend,
      cluster,
      series,
      {
        path: target.url,
        method: req.method as 'GET',
        headers,
        body: hasBody ? req : null,
        headersTimeout: cluster.responseMs,
        bodyTimeout: cluster.responseMs,
      },
      requestId,
      this.exchangeOptions,
    );
    x.routeName = route.name;
    if (route.shadow !== undefined) route.shadow.tap(x, table.clusters, target.url, headers); // parity: proxy/shadow.ts
    (res as Tracked)[EXCHANGE] = x;
    x.start();
  };

  /**
   * The backend for a request and the series that records it: the split's choice, or what an
   * allowed override header forces (recorded apart, never judged by the guard). A string says
   * why the override was refused.
   */
  private select(route: CompiledRoute, req: IncomingMessage, table: RoutingTable): { backend: BackendName; series: Series } | 'invalid' | 'forbidden' {
    const o = table.override;
    if (o) {
      const value = req.headers[o.header];
      if (typeof value === 'string') {
        const r = judgeOverride(o, value, req.socket.remoteAddress);
        return r === 'invalid' || r === 'forbidden' ? r : { backend: r, series: route.series.forced[r] };
      }
    }
    const backend = decide(route.split, route.name, stickyKey(route, req.headers));
    return { backend, series: route.series[backend] };
  }

  private refuseOverride(res: ServerResponse, route: string, why: 'invalid' | 'forbidden'): void {
    const name = this.table.override?.header;
    if (why === 'invalid') this.answer(res, route, 400, 'bad_override', `header ${name} must be legacy or candidate`);
    else this.answer(res, route, 403, 'override_refused', `header ${name} is not allowed from this client or lacks the right token`);
  }

  /** The request in progress broke its body's framing: it gets the 400 (see onClientError). */
  private readonly refuseInProgress = (res: ServerResponse, err: NodeJS.ErrnoException): boolean => {
    res.shouldKeepAlive = false;
    const message = `the request body is malformed (${err.code ?? 'parse error'})`;
    const x = (res as Tracked)[EXCHANGE];
    if (x) x.refuse(400, 'bad_request_body', message);
    else this.answer(res, '', 400, 'bad_request_body', message);
    return true;
  };

  private readonly refuseConnect = (_req: IncomingMessage, socket: Duplex): void => {
    this.stats.answer('', 405);
    socket.on('error', () => socket.destroy());
    const body = JSON.stringify({ error: { code: 'method_not_allowed', message: 'cutover is a reverse proxy: CONNECT (a tunnel) is not served' } });
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nallow: ${ALLOWED_METHODS}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };

  private readonly accessLog = (x: Exchange): void => {
    if (!this.table.accessLog) return;
    this.logger.info(
      { requestId: x.requestId, method: x.req.method, url: x.req.url, route: x.routeName, backend: x.backend, status: x.status, outcome: x.outcome },
      'request',
    );
  };

  /** WebSocket (and other) upgrades: same route and split, proxied by http-proxy. */
  private readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!isWebSocketUpgrade(req)) {
      const res = plainResponse(req, socket);
      res.once('close', () => this.closed(res));
      return this.handle(req, res);
    }
    const refuse = (status: string) => {
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
    };
    socket.on('error', () => socket.destroy());
    // Tracked so that shutdown can cut upgraded connections when the grace period ends.
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    // A client that half-closes has gone: do not keep the socket (and the upstream) open for it.
    socket.once('end', () => socket.destroy());
    const table = this.table;
    if (this.control.maintenance.enabled) {
      this.stats.answer('', 503);
      return refuse('503 Service Unavailable');
    }
    const target = normalizeTarget(req.url ?? '/');
    const upstream = target && upgradeRequestHeaders(req); // undefined: more than one Host field
    if (!target || tooManyHeaders(req) || !upstream) {
      this.stats.answer('', target && tooManyHeaders(req) ? 431 : 400);
      return refuse(target && tooManyHeaders(req) ? '431 Request Header Fields Too Large' : '400 Bad Request');
    }
    req.url = target.url; // http-proxy forwards req.url: the backend gets the path that was routed
    const route = matchRoute(table.routes, req.method ?? 'GET', target.path, req.headers);
    if (!route) {
      this.stats.answer('', 404);
      return refuse('404 Not Found');
    }
    const chosen = this.select(route, req, table);
    if (typeof chosen === 'string') {
      this.stats.answer(route.name, chosen === 'invalid' ? 400 : 403);
      return refuse(chosen === 'invalid' ? '400 Bad Request' : '403 Forbidden');
    }
    const { backend, series } = chosen;
    const cluster = table.clusters[backend];
    const node = cluster.next();
    // An upgrade is a request like any other: in flight until the upstream answers, then one
    // record: 101 is a success, a refusal is its status, a failure its kind.
    const flight = { started: this.now() };
    series.inFlight.add(flight);
    let recorded = false;
    const record = (status: number, error: ErrorKind | null) => {
      if (recorded) return;
      recorded = true;
      series.inFlight.delete(flight);
      const now = this.now();
      const us = (now - flight.started) * 1000;
      series.record(now, status, error, recordedLatencyUs(us, error, cluster.responseMs), status === 0 && error === null, flight.started);
    };
    // Until the upstream answers the upgrade, the same response timeout as plain requests;
    // afterwards the connection may idle as long as the two ends like (cleared in proxyReqWs).
    // (A timer of our own: http-proxy resets the socket's own timeout to 0.)
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      record(0, 'timeout');
      refuse('504 Gateway Timeout');
      setTimeout(() => socket.destroy(), 1000).unref(); // in case the client never closes its side
    }, cluster.responseMs);
    this.upgradeTimers.set(socket, { timer, record });
    socket.once('close', () => {
      clearTimeout(timer);
      this.upgradeTimers.delete(socket);
      record(0, null); // the client left before the upstream answered
    });
    req.headers = upstream.headers; // the rules of plain requests, plus Connection/Upgrade
    this.ws.ws(req, socket, head, { target: node.origin }, (err) => {
      if (timedOut) return; // already answered 504 and counted; this is the abandoned upstream
      const kind = errorKind(err);
      if (kind === 'refused') cluster.refused(node);
      record(0, kind);
      refuse(kind === 'timeout' ? '504 Gateway Timeout' : '502 Bad Gateway');
    });
  };

  private allClosed: Promise<void> | undefined;

  /**
   * Stop accepting connections; the open ones are still served, each response with `Connection:
   * close` so that their clients move on. Resolves once every connection has ended. In a cluster
   * worker this takes it out of the primary's distribution: other workers get new connections.
   */
  stopAccepting(): Promise<void> {
    this.exchangeOptions.closing = true;
    // net.Server's close, not http.Server's: since Node 19 that one also closes the idle keep-alive
    // connections at once, under clients that may be sending their next request on them.
    this.allClosed ??= new Promise<void>((resolve) => Server.prototype.close.call(this.server, () => resolve()));
    return this.allClosed;
  }

  /**
   * Drain, then close. For `drainMs` the listener keeps accepting and serving while load balancers
   * notice that the instance is not ready, and every response says `Connection: close`, so each
   * connection in use closes cleanly after a response and its client reconnects elsewhere. Idle
   * keep-alive connections are left alone meanwhile: closing one races a request the client may be
   * sending on it (RFC 9112 section 9.6), so it happens once, after the drain, to the connections
   * nobody used for the whole period. Connections the kernel has accepted are picked up and
   * served, rather than reset by a listener that closes under them. Then close(graceMs).
   * Separate from process exit, so that a cluster primary could ask a worker to do the same.
   */
  async drain(drainMs: number, graceMs: number, onListenerClosing?: () => void): Promise<{ forced: number }> {
    this.exchangeOptions.closing = true;
    if (drainMs === 0) {
      onListenerClosing?.();
      return this.close(graceMs);
    }
    await sleep(drainMs);
    // The grace period runs from the end of the drain period, the wait for the accept queue included.
    const graceEnds = this.now() + graceMs;
    const port = (this.server.address() as AddressInfo | null)?.port;
    for (;;) {
      // Close in the check phase, right after a poll: what was pending has been accepted and read
      // by then, so a connection with a request in its buffer is busy, not idle (answered, not
      // reset), and the accept queue is as short as it gets. Still not empty: the loop lags;
      // let it catch up rather than reset what waits there.
      await new Promise((resolve) => setImmediate(resolve));
      const queued = port === undefined ? undefined : acceptQueueLength(port);
      if (!queued || this.now() >= graceEnds) break;
      await sleep(5);
    }
    onListenerClosing?.();
    return this.close(Math.max(0, graceEnds - this.now()));
  }

  /**
   * Graceful close: stop accepting, close idle keep-alive connections, let busy ones finish their
   * response with `Connection: close`, and after `graceMs` cut whatever is left.
   */
  async close(graceMs = 30_000): Promise<{ forced: number }> {
    this.exchangeOptions.closing = true;
    const closed = (this.allClosed ??= new Promise<void>((resolve) => this.server.close(() => resolve())));
    this.server.closeIdleConnections();
    let forced = 0;
    const timer = setTimeout(() => {
      forced = this.inFlight + this.upgraded.size;
      this.server.closeAllConnections();
      for (const s of this.upgraded) s.destroy(); // upgraded sockets are no longer the server's to close
    }, graceMs);
    timer.unref();
    // Connections that finish their last response become idle; close them as they do.
    const sweep = setInterval(() => this.server.closeIdleConnections(), 100);
    sweep.unref();
    await closed;
    clearTimeout(timer);
    clearInterval(sweep);
    this.wsProxy?.close();
    return { forced };
  }

  /** Upgraded (WebSocket) connections open right now. */
  get upgradedConnections(): number {
    return this.upgraded.size;
  }

  get closing(): boolean {
    return this.exchangeOptions.closing;
  }
}

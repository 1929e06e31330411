// The data plane: a node:http server. Per request: select (./select.ts: maintenance, checks,
// route, split) and dispatch to a node of the chosen cluster (./forward.ts); WebSocket upgrades
// take the same select (./upgrade.ts). Nothing else runs here.
import type { ErrorCode } from '../errors.js';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { Server, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Control } from '../control/control.js';
import type { LogSink } from '../log-lite.js';
import type { Stats } from '../stats/store.js';
import { Exchange, type ExchangeOptions } from './forward.js';
import { applyServerLimits } from './limits.js';
import { oneAtATime } from './pipeline.js';
import { isWebSocketUpgrade, plainResponse } from './plain-upgrade.js';
import { acceptQueueLength } from './accept-queue.js';
import { onClientError } from './client-errors.js';
import { sendError, sendRawError } from './respond.js';
import { isRefusal, select } from './select.js';
import type { RoutingTable } from './table.js';
import { Upgrades, type Logged } from './upgrade.js';

/** What a 405 to CONNECT lists in Allow: the methods cutover proxies. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** The exchange a response belongs to, told when the response closes. */
const EXCHANGE = Symbol('exchange');
type Tracked = ServerResponse & { [EXCHANGE]?: Exchange };

export interface ProxyServerOptions {
  table: RoutingTable;
  control: Control;
  stats: Stats;
  logger: LogSink;
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
  private readonly logger: LogSink;
  private readonly now: () => number;
  private readonly upgrades: Upgrades;
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
    this.upgrades = new Upgrades({ control: this.control, stats: this.stats, now: this.now, onDone: this.accessLog });
    this.server = createServer(oneAtATime(this.handle, this.closed));
    applyServerLimits(this.server);
    this.server.on('upgrade', this.upgrade);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket, this.refuseInProgress));
    // CONNECT asks for a tunnel (RFC 9110 section 9.3.6): node:http hands it over as 'connect',
    // never as a request, so without this listener it was dropped without an answer.
    this.server.on('connect', this.refuseConnect);
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
  private answer(res: ServerResponse, route: string, status: number, code: ErrorCode, message: string, headers?: Record<string, string>): void {
    this.stats.answer(route, status);
    sendError(res, status, code, message, {}, headers);
  }

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    // While shutting down, a request on an existing keep-alive connection is served, then the
    // connection closes (`Connection: close`), so clients reconnect to another replica.
    if (this.exchangeOptions.closing) res.shouldKeepAlive = false;
    const c = select(req, this.table, this.control, this.stats);
    if (isRefusal(c)) return sendError(res, c.status, c.code, c.message, {}, c.headers);
    const h = req.headers;
    const hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
    const x = new Exchange(
      req,
      res,
      c.backend,
      c.cluster,
      c.series,
      {
        path: c.target,
        method: req.method as 'GET',
        headers: c.headers,
        body: hasBody ? req : null,
        headersTimeout: c.cluster.responseMs,
        bodyTimeout: c.cluster.responseMs,
      },
      c.requestId,
      this.exchangeOptions,
    );
    x.routeName = c.route.name;
    if (c.route.shadow !== undefined) c.route.shadow.tap(x, this.table.clusters, c.target, c.headers); // parity: proxy/shadow.ts
    (res as Tracked)[EXCHANGE] = x;
    x.start();
  };

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
    sendRawError(socket, 405, 'method_not_allowed', 'cutover is a reverse proxy: CONNECT (a tunnel) is not served', { allow: ALLOWED_METHODS });
  };

  private readonly accessLog = (x: Logged): void => {
    if (!this.table.accessLog) return;
    this.logger.info(
      { requestId: x.requestId, method: x.req.method, url: x.req.url, route: x.routeName, backend: x.backend, status: x.status, outcome: x.outcome },
      'request',
    );
  };

  /** WebSocket upgrades (./upgrade.ts); any other upgrade is served as a plain request. */
  private readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (isWebSocketUpgrade(req)) return this.upgrades.start(req, socket, head, this.table);
    const res = plainResponse(req, socket);
    res.once('close', () => this.closed(res));
    this.handle(req, res);
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
      forced = this.inFlight + this.upgrades.size;
      this.server.closeAllConnections();
      this.upgrades.destroyAll(); // upgraded sockets are no longer the server's to close
    }, graceMs);
    timer.unref();
    // Connections that finish their last response become idle; close them as they do.
    const sweep = setInterval(() => this.server.closeIdleConnections(), 100);
    sweep.unref();
    await closed;
    clearTimeout(timer);
    clearInterval(sweep);
    this.upgrades.close();
    return { forced };
  }

  /** Upgraded (WebSocket) connections open right now. */
  get upgradedConnections(): number {
    return this.upgrades.size;
  }

  get closing(): boolean {
    return this.exchangeOptions.closing;
  }
}

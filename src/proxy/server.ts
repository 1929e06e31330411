// The data plane: a node:http server. Per request: maintenance check, route match, one split
// decision, dispatch to a node of the chosen cluster. Nothing else runs here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { BackendName } from '../config/schema.js';
import type { Control } from '../control/control.js';
import type { Logger } from '../log.js';
import { decide, parseOverride } from '../split/decide.js';
import { matchRoute, stickyKey, type CompiledRoute } from '../split/route.js';
import { errorKind, Exchange, type ExchangeOptions } from './forward.js';
import { upstreamHeaders } from './headers.js';
import { upgradeRequestHeaders } from './upgrade-headers.js';
import { applyServerLimits, MAX_REQUEST_HEADERS, tooManyHeaders } from './limits.js';
import { BAD_PATH, normalizeTarget } from './normalize-path.js';
import { oneAtATime } from './pipeline.js';
import { isWebSocketUpgrade, plainResponse } from './plain-upgrade.js';
import { onClientError } from './client-errors.js';
import { sendError } from './respond.js';
import type { RoutingTable } from './table.js';

export interface ProxyServerOptions {
  table: RoutingTable;
  control: Control;
  logger: Logger;
  /** Monotonic milliseconds. */
  now?: () => number;
}

export class ProxyServer {
  readonly server: Server;
  table: RoutingTable;
  /** Requests received and not yet answered (or abandoned). */
  inFlight = 0;
  private readonly control: Control;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly ws = httpProxy.createProxyServer({ ws: true, xfwd: false }) // X-Forwarded-* come from upgradeRequestHeaders;
  private readonly upgraded = new Set<Duplex>();
  private readonly upgradeTimers = new Map<Duplex, NodeJS.Timeout>();
  private readonly exchangeOptions: ExchangeOptions;

  constructor(opts: ProxyServerOptions) {
    this.table = opts.table;
    this.control = opts.control;
    this.logger = opts.logger;
    this.now = opts.now ?? (() => performance.now());
    this.exchangeOptions = { servedByHeader: this.table.servedByHeader, now: this.now, onDone: this.accessLog, closing: false };
    this.server = createServer(oneAtATime(this.handle));
    applyServerLimits(this.server);
    this.server.on('upgrade', this.upgrade);
    this.server.on('clientError', onClientError);
    this.ws.on('error', () => {}); // errors are handled by each ws() callback
    this.ws.on('proxyReqWs', (proxyReq, _req, socket: Duplex) => {
      proxyReq.once('upgrade', () => clearTimeout(this.upgradeTimers.get(socket)));
      // The client went away (or timed out) before the upstream answered: abandon the upstream too.
      socket.once('close', () => proxyReq.destroy());
    });
  }

  /** Swap in a new table; the next request uses it. */
  setTable(table: RoutingTable): void {
    this.table = table;
    this.exchangeOptions.servedByHeader = table.servedByHeader;
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

  private readonly done = (): void => {
    this.inFlight--;
  };

  private readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    res.once('close', this.done);
    // While shutting down, a request on an existing keep-alive connection is served, then the
    // connection closes (`Connection: close`), so clients reconnect to another replica.
    if (this.exchangeOptions.closing) res.shouldKeepAlive = false;
    const m = this.control.maintenance;
    if (m.enabled) {
      return sendError(res, 503, 'maintenance', m.message, {}, { 'retry-after': String(m.retryAfterSeconds) });
    }
    const table = this.table;
    const url = req.url ?? '/';
    if (url.charCodeAt(0) !== 47 /* / */ || req.method === 'CONNECT') {
      return sendError(res, 400, 'bad_request_target', 'cutover accepts origin-form request targets only (a path starting with /)');
    }
    if (tooManyHeaders(req)) return sendError(res, 431, 'too_many_headers', `more than ${MAX_REQUEST_HEADERS} header fields`);
    const target = normalizeTarget(url);
    if (!target) return sendError(res, 400, 'bad_path', BAD_PATH);
    const route = matchRoute(table.routes, req.method ?? 'GET', target.path, req.headers);
    if (!route) return sendError(res, 404, 'no_route', `no route matches ${req.method} ${target.path}`);
    const backend = this.choose(route, req, table);
    if (backend === undefined) {
      return sendError(res, 400, 'bad_override', `header ${table.overrideHeader} must be legacy or candidate`);
    }
    const cluster = table.clusters[backend];
    const headers: string[] = [];
    const requestId = upstreamHeaders(req, headers);
    const h = req.headers;
    const hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
    const x = new Exchange(
      req,
      res,
      backend,
      cluster,
      route.series[backend],
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
    x.start();
  };

  /** The backend for a request; undefined when the override header holds a bad value. */
  private choose(route: CompiledRoute, req: IncomingMessage, table: RoutingTable): BackendName | undefined {
    if (table.overrideHeader) {
      const forced = req.headers[table.overrideHeader];
      if (typeof forced === 'string') return parseOverride(forced);
    }
    return decide(route.split, route.name, stickyKey(route, req.headers));
  }

  private readonly accessLog = (x: Exchange): void => {
    if (!this.table.accessLog) return;
    this.logger.info(
      { requestId: x.requestId, method: x.req.method, url: x.req.url, route: x.routeName, backend: x.backend, status: x.status, outcome: x.outcome },
      'request',
    );
  };

  /** WebSocket (and other) upgrades: same route and split, proxied by http-proxy. */
  private readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!isWebSocketUpgrade(req)) return this.handle(req, plainResponse(req, socket));
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
    if (this.control.maintenance.enabled) return refuse('503 Service Unavailable');
    const table = this.table;
    const target = normalizeTarget(req.url ?? '/');
    if (!target || tooManyHeaders(req)) return refuse(target ? '431 Request Header Fields Too Large' : '400 Bad Request');
    req.url = target.url; // http-proxy forwards req.url: the backend gets the path that was routed
    const route = matchRoute(table.routes, req.method ?? 'GET', target.path, req.headers);
    if (!route) return refuse('404 Not Found');
    const backend = this.choose(route, req, table);
    if (!backend) return refuse('400 Bad Request');
    const cluster = table.clusters[backend];
    const node = cluster.next();
    // Until the upstream answers the upgrade, the same response timeout as plain requests;
    // afterwards the connection may idle as long as the two ends like (cleared in proxyReqWs).
    // (A timer of our own: http-proxy resets the socket's own timeout to 0.)
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      route.series[backend].transportError(this.now(), 'timeout');
      refuse('504 Gateway Timeout');
      setTimeout(() => socket.destroy(), 1000).unref(); // in case the client never closes its side
    }, cluster.responseMs);
    this.upgradeTimers.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.upgradeTimers.delete(socket);
    });
    req.headers = upgradeRequestHeaders(req).headers; // the rules of plain requests, plus Connection/Upgrade
    this.ws.ws(req, socket, head, { target: node.origin }, (err) => {
      if (timedOut) return; // already answered 504 and counted; this is the abandoned upstream
      const kind = errorKind(err);
      if (kind === 'refused') cluster.refused(node);
      route.series[backend].transportError(this.now(), kind);
      refuse(kind === 'timeout' ? '504 Gateway Timeout' : '502 Bad Gateway');
    });
  };

  /**
   * Graceful close: stop accepting, close idle keep-alive connections, let busy ones finish their
   * response with `Connection: close`, and after `graceMs` cut whatever is left.
   */
  async close(graceMs = 30_000): Promise<{ forced: number }> {
    this.exchangeOptions.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
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
    this.ws.close();
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

// WebSocket upgrades: the same select() as plain requests (refusals answered raw on the socket,
// as JSON with Connection: close), then proxied by http-proxy to a node of the chosen cluster.
// Until the upstream answers, an upgrade is a request like any other: in the series' in-flight
// set, one record at the end (101 a success, a refusal its status, a failure its kind), the
// access-log line, and the node's outlier detector hears the status or the failure. Afterwards
// the connection may idle as long as the two ends like. Listeners are shared functions that
// find their upgrade through a symbol on the socket or the upstream request: no closures.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type HttpProxy from 'http-proxy';
import type { BackendName } from '../config/schema.js';
import type { Control } from '../control/control.js';
import type { ErrorKind, InFlight, Series } from '../stats/series.js';
import type { Stats } from '../stats/store.js';
import type { Cluster, UpstreamNode } from './cluster.js';
import { errorKind, nodeFailure, recordedLatencyUs } from './error-kinds.js';
import { FAILURE } from './forward.js';
import { sendRawError } from './respond.js';
import { isRefusal, select, type Choice } from './select.js';
import type { RoutingTable } from './table.js';
import { upgradeRequestHeaders } from './upgrade-headers.js';

/** What the access log reads of a request: an Exchange (forward.ts) or an Upgrade. */
export interface Logged {
  readonly requestId: string;
  readonly req: { readonly method?: string; readonly url?: string };
  readonly routeName: string;
  readonly backend: BackendName;
  readonly status: number;
  readonly outcome: string;
}

export interface UpgradesOptions {
  control: Pick<Control, 'maintenance'>;
  stats: Pick<Stats, 'answer'>;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Called once when an upgrade's outcome is known (the access log). */
  onDone: (u: Logged) => void;
}

const UPGRADE = Symbol('upgrade');
const HELD = Symbol('held');
type Carrier = { [UPGRADE]?: Upgrade };
type Held = Duplex & Carrier & { [HELD]?: Set<Duplex> };

function destroySocket(this: Duplex): void {
  this.destroy();
}
function forget(this: Held): void {
  this[HELD]?.delete(this);
  this[UPGRADE]?.clientClosed();
}
function onUpstreamUpgrade(this: ClientRequest & Carrier): void {
  this[UPGRADE]?.answered(101);
}
function onUpstreamResponse(this: ClientRequest & Carrier, res: IncomingMessage): void {
  this[UPGRADE]?.answered(res.statusCode ?? 0);
}
function onProxyError(err: Error, _req: IncomingMessage, socket: unknown): void {
  (socket as Held)[UPGRADE]?.failed(err);
}
function destroyLater(socket: Duplex): void {
  socket.destroy();
}
function onTimeout(u: Upgrade): void {
  u.timedOut();
}

/** One upgrade until its upstream answered (or failed, or its client left). */
class Upgrade implements Logged {
  readonly requestId: string;
  readonly req: { readonly method?: string; readonly url?: string };
  readonly routeName: string;
  readonly backend: BackendName;
  status = 0;
  outcome: ErrorKind | 'aborted' | 'ok' | '' = '';
  upstream: ClientRequest | undefined;
  private readonly cluster: Cluster;
  private readonly series: Series;
  private readonly flight: InFlight;
  private readonly timer: NodeJS.Timeout;

  constructor(
    req: IncomingMessage,
    c: Choice,
    readonly node: UpstreamNode,
    private readonly socket: Duplex,
    private readonly opts: UpgradesOptions,
  ) {
    this.req = { method: req.method, url: req.url };
    this.requestId = c.requestId;
    this.routeName = c.route.name;
    this.backend = c.backend;
    this.cluster = c.cluster;
    this.series = c.series;
    this.flight = { started: opts.now() };
    this.series.inFlight.add(this.flight);
    // The same response timeout as plain requests (a timer of our own: http-proxy resets the
    // socket's own timeout to 0).
    this.timer = setTimeout(onTimeout, c.cluster.responseMs, this);
  }

  /** The upstream answered: 101 (upgraded), or a refusal that http-proxy passes on as it is. */
  answered(status: number): void {
    if (this.outcome !== '') return;
    this.cluster.responded(this.node, status);
    this.status = status;
    this.finish('ok', null);
  }

  /** http-proxy's error before the upstream answered: a refused, reset or failed upstream. */
  failed(err: Error): void {
    if (this.outcome !== '') return; // answered, timed out or abandoned already
    const failure = nodeFailure(err);
    if (failure) this.cluster.failed(this.node, failure);
    const kind = errorKind(err);
    this.finish(kind, kind);
    const f = FAILURE[kind];
    sendRawError(this.socket, f.status, f.code, f.message);
  }

  timedOut(): void {
    if (this.outcome !== '') return;
    this.cluster.failed(this.node, 'timeout');
    this.finish('timeout', 'timeout');
    const f = FAILURE.timeout;
    sendRawError(this.socket, f.status, f.code, f.message);
    setTimeout(destroyLater, 1000, this.socket).unref(); // in case the client never closes its side
  }

  /** The client left before the upstream answered: abandon the upstream too. */
  clientClosed(): void {
    this.upstream?.destroy();
    this.finish('aborted', null);
  }

  private finish(outcome: Upgrade['outcome'], error: ErrorKind | null): void {
    if (this.outcome !== '') return;
    this.outcome = outcome;
    clearTimeout(this.timer);
    this.series.inFlight.delete(this.flight);
    const now = this.opts.now();
    const us = (now - this.flight.started) * 1000;
    this.series.record(now, this.status, error, recordedLatencyUs(us, error, this.cluster.responseMs), outcome === 'aborted', this.flight.started);
    this.opts.onDone(this);
  }
}

/** The WebSocket upgrades of one proxy server, and the upgraded sockets it still holds. */
export class Upgrades {
  /** http-proxy, created (and the module loaded) at the first upgrade. */
  private proxy: HttpProxy | undefined;
  /** Tracked so that shutdown can cut upgraded connections when the grace period ends. */
  private readonly held = new Set<Duplex>();

  constructor(private readonly opts: UpgradesOptions) {}

  private get ws(): HttpProxy {
    if (this.proxy) return this.proxy;
    const httpProxy = createRequire(import.meta.url)('http-proxy') as typeof HttpProxy;
    const ws = (this.proxy = httpProxy.createProxyServer({ ws: true, xfwd: false })); // X-Forwarded-* come from select's headers
    ws.on('error', () => {}); // errors are handled by each ws() callback
    ws.on('proxyReqWs', (proxyReq: ClientRequest & Carrier, _req, socket: Held) => {
      const u = socket[UPGRADE];
      if (!u) return;
      u.upstream = proxyReq;
      proxyReq[UPGRADE] = u;
      proxyReq.once('upgrade', onUpstreamUpgrade);
      proxyReq.once('response', onUpstreamResponse);
    });
    return ws;
  }

  /** A WebSocket upgrade request on `socket`, which node:http has let go of. */
  start(req: IncomingMessage, socket: Duplex, head: Buffer, table: RoutingTable): void {
    const s = socket as Held;
    s.on('error', destroySocket);
    this.held.add(s);
    s[HELD] = this.held;
    s.once('close', forget);
    // A client that half-closes has gone: do not keep the socket (and the upstream) open for it.
    s.once('end', destroySocket);
    const c = select(req, table, this.opts.control, this.opts.stats);
    if (isRefusal(c)) return sendRawError(s, c.status, c.code, c.message, c.headers);
    const node = c.cluster.next();
    s[UPGRADE] = new Upgrade(req, c, node, s, this.opts);
    req.url = c.target; // http-proxy forwards req.url: the backend gets the path that was routed
    req.headers = upgradeRequestHeaders(c.headers, req.headers.upgrade); // the rules of plain requests, plus Connection/Upgrade
    this.ws.ws(req, s, head, { target: node.origin }, onProxyError);
  }

  /** Upgraded (WebSocket) connections open right now. */
  get size(): number {
    return this.held.size;
  }

  /** Cut every upgraded connection (the grace period of a shutdown is over). */
  destroyAll(): void {
    for (const s of this.held) s.destroy();
  }

  close(): void {
    this.proxy?.close();
  }
}

// Forward one request to a backend cluster and stream the answer back, both ways with
// backpressure and nothing buffered. One Exchange object per request is the undici dispatch
// handler; it records the outcome in the route's series exactly once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { BackendName } from '../config/schema.js';
import type { ErrorKind, Series } from '../stats/series.js';
import type { Cluster, UpstreamNode } from './cluster.js';
import { downstreamHeaders } from './headers.js';
import { sendError } from './respond.js';
import { destroyIfNoDrain } from './stall.js';
import { completeWithoutBody } from './bodiless.js';

type Controller = Dispatcher.DispatchController;

/** Map an upstream failure to the kind we count. */
export function errorKind(err: unknown): ErrorKind {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'other';
  }
}

const FAILURE: Record<ErrorKind, { status: number; code: string; message: string }> = {
  refused: { status: 502, code: 'upstream_refused', message: 'every node of the backend refused the connection' },
  reset: { status: 502, code: 'upstream_reset', message: 'the backend closed the connection before responding' },
  timeout: { status: 504, code: 'upstream_timeout', message: 'the backend did not respond in time' },
  other: { status: 502, code: 'upstream_error', message: 'the request to the backend failed' },
};

export interface ExchangeOptions {
  servedByHeader: string | false;
  now: () => number;
  /** Set when the server shuts down: responses then carry `Connection: close`. */
  closing: boolean;
  /** Called once when the exchange is over (response finished, failed or abandoned). */
  onDone?: (x: Exchange) => void;
}

export class Exchange implements Dispatcher.DispatchHandler {
  private controller: Controller | undefined;
  private started = 0;
  private responded = false;
  private clientGone = false;
  private attempts = 0;
  private node!: UpstreamNode;
  status = 0;
  routeName = '';
  outcome: ErrorKind | 'aborted' | 'ok' | '' = '';

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly backend: BackendName,
    private readonly cluster: Cluster,
    private readonly series: Series,
    private readonly dispatchOptions: Dispatcher.DispatchOptions,
    readonly requestId: string,
    private readonly opts: ExchangeOptions,
  ) {
    res.once('close', this.onClientClose);
  }

  start(): void {
    this.node = this.cluster.next();
    this.attempts++;
    this.started = this.opts.now();
    this.controller = undefined;
    this.node.pool.dispatch(this.dispatchOptions, this);
  }

  private readonly onClientClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    // Before dispatch reaches onRequestStart there is no controller yet; it aborts there.
    if (this.controller && !this.controller.aborted) this.controller.abort(new ClientGoneError());
  };

  private waitingDrain = false;
  private readonly resume = (): void => {
    this.waitingDrain = false;
    this.controller?.resume();
  };

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new ClientGoneError());
  }

  onResponseStart(_c: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx interim responses are not forwarded
    const now = this.opts.now();
    if (this.node.failures > 0) this.cluster.succeeded(this.node);
    const out = downstreamHeaders(headers);
    if (this.opts.servedByHeader) out[this.opts.servedByHeader] = this.backend;
    out['x-request-id'] = this.requestId;
    if (this.opts.closing) this.res.shouldKeepAlive = false;
    // The reason phrase is not forwarded: undici decodes it as UTF-8 and a Latin-1 phrase would
    // make writeHead throw; Node writes the standard phrase for the status (RFC 9112 4: clients
    // ignore it). If writeHead still throws (a header Node refuses), undici aborts and
    // onResponseError answers 502 before anything was counted as a response.
    this.res.writeHead(statusCode, out);
    this.responded = true;
    this.status = statusCode;
    this.series.response(now, statusCode, (now - this.started) * 1000);
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    if (!this.res.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true;
      c.pause();
      this.res.once('drain', this.resume);
      destroyIfNoDrain(this.res, this.cluster.responseMs);
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.finish('ok');
  }

  onResponseError(_c: Controller, err: Error): void {
    if (completeWithoutBody(this.status, err)) return this.onResponseEnd();
    if (this.clientGone || err instanceof ClientGoneError) {
      this.series.clientAbort(this.opts.now(), this.responded);
      this.finish('aborted');
      return;
    }
    const kind = errorKind(err);
    if (this.responded) {
      // The body broke off after the headers went out: all we can do is cut the client off too.
      this.series.transportError(this.opts.now(), kind, true);
      this.res.destroy(err);
      this.finish(kind);
      return;
    }
    if (kind === 'refused') {
      this.cluster.refused(this.node);
      if (this.canRetry()) {
        this.start();
        return;
      }
    }
    this.series.transportError(this.opts.now(), kind, false);
    const f = FAILURE[kind];
    sendError(this.res, f.status, f.code, kind === 'refused' && this.cluster.nodes.length === 1 ? 'the backend refused the connection' : f.message, {
      backend: this.backend,
      requestId: this.requestId,
    });
    this.finish(kind);
  }

  /** A refused connection never reached the upstream; another node may take it if the body is untouched. */
  private canRetry(): boolean {
    return this.attempts < this.cluster.nodes.length && !this.req.readableDidRead && this.cluster.available() > 0;
  }

  private finish(outcome: Exchange['outcome']): void {
    if (this.outcome !== '') return;
    this.outcome = outcome;
    this.opts.onDone?.(this);
  }
}

/** The reason given to undici when the client went away. */
export class ClientGoneError extends Error {
  readonly code = 'CLIENT_GONE';
  constructor() {
    super('the client closed the connection');
  }
}

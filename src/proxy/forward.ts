// Forward one request to a backend cluster and stream the answer back, both ways with
// backpressure and nothing buffered. One Exchange object per request is the undici dispatch
// handler; it is in the series' in-flight set while it runs and records its outcome, with
// everything known about it, exactly once at the end.
import type { ErrorCode } from '../errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { BackendName } from '../config/schema.js';
import type { ErrorKind, InFlight, Series } from '../stats/series.js';
import type { Cluster, UpstreamNode } from './cluster.js';
import { downstreamHeaders } from './headers.js';
import { sendError } from './respond.js';
import { errorKind, nodeFailure, recordedLatencyUs } from './error-kinds.js';
import { mayRetry } from './retry.js';
import { destroyIfNoDrain } from './stall.js';
import { completeWithoutBody } from './bodiless.js';
import type { PrimaryCapture } from './shadow.js';

type Controller = Dispatcher.DispatchController;

export { errorKind };

export const FAILURE: Record<ErrorKind, { status: number; code: ErrorCode; message: string }> = {
  refused: { status: 502, code: 'upstream_refused', message: 'every node of the backend refused the connection' },
  reset: { status: 502, code: 'upstream_reset', message: 'the backend closed the connection before responding' },
  timeout: { status: 504, code: 'upstream_timeout', message: 'the backend did not respond in time' },
  other: { status: 502, code: 'upstream_error', message: 'the request to the backend failed' },
};

export interface ExchangeOptions {
  servedByHeader: string | false;
  now: () => number;
  /** How long a client may leave the response unread (listen.clientSendTimeoutMs). */
  clientSendMs: number;
  /** Set when the server shuts down: responses then carry `Connection: close`. */
  closing: boolean;
  /** Called once when the exchange is over (response finished, failed or abandoned). */
  onDone?: (x: Exchange) => void;
  /** A request cutover refused itself (the client's error): counted apart, never against a backend. */
  onRefused?: (x: Exchange, status: number) => void;
}

/** undici's codes for a request it will not send as given: the client's error, not the backend's. */
const REFUSED_BY_UNDICI = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/** One request: the undici dispatch handler, with no closures on the common path. */
export class Exchange implements Dispatcher.DispatchHandler {
  private controller: Controller | undefined;
  /** In the series' in-flight set from the first dispatch to the record (retries included). */
  private readonly flight: InFlight = { started: 0 };
  /** Monotonic ms of the current attempt. */
  private attemptStarted = 0;
  private latencyUs = 0;
  private responded = false;
  private clientGone = false;
  /** Set while the upstream is watched after the client left (see Series.watchAbortedMs). */
  private watch: NodeJS.Timeout | undefined;
  private attempts = 0;
  private node!: UpstreamNode;
  status = 0;
  routeName = '';
  outcome: ErrorKind | 'aborted' | 'ok' | 'refused-by-cutover' | '' = '';
  /** Set by the route's shadow tap when this request is sampled: it copies the answer (shadow.ts). */
  capture: PrimaryCapture | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly backend: BackendName,
    private readonly cluster: Cluster,
    private readonly series: Series,
    readonly dispatchOptions: Dispatcher.DispatchOptions,
    readonly requestId: string,
    private readonly opts: ExchangeOptions,
  ) {}

  start(): void {
    // A retry goes to another node than the one that just failed.
    this.node = this.cluster.next(this.attempts > 0 ? this.node : undefined);
    this.attempts++;
    this.attemptStarted = this.opts.now();
    if (this.attempts === 1) {
      this.flight.started = this.attemptStarted;
      this.series.inFlight.add(this.flight);
    }
    this.controller = undefined;
    this.node.pool.dispatch(this.dispatchOptions, this);
  }

  /** The client's response closed (the server's one 'close' listener calls this). */
  clientClosed(): void {
    if (this.res.writableFinished || this.outcome !== '') return;
    this.clientGone = true;
    // A client that gives up before any response says nothing about the backend yet. When the
    // request went out whole, keep it going until the slow threshold, so that a backend that
    // hangs behind impatient clients is still seen as slow (and one that answers, as fine).
    const watchMs = this.series.watchAbortedMs - (this.opts.now() - this.attemptStarted);
    const sent = this.dispatchOptions.body === null || this.req.complete;
    if (!this.responded && sent && watchMs > 0) {
      this.watch = setTimeout(() => this.abandon(), watchMs);
      return;
    }
    this.abandon();
  }

  /** Stop the upstream request of a client that has gone. */
  private abandon(): void {
    this.watch = undefined;
    // Before dispatch reaches onRequestStart there is no controller yet; it aborts there.
    if (this.controller && !this.controller.aborted) this.controller.abort(new ClientGoneError());
  }

  private waitingDrain = false;
  /** The response head between onResponseStart and the first body byte. */
  private head: Record<string, string | string[] | number | undefined> | undefined;

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if ((this.clientGone && this.watch === undefined) || this.outcome !== '') controller.abort(new ClientGoneError());
  }

  onResponseStart(c: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx interim responses are not forwarded
    const now = this.opts.now();
    this.cluster.responded(this.node, statusCode);
    if (this.clientGone) {
      // The watched upstream answered after all: that is the evidence; the body is not needed.
      this.responded = true;
      this.status = statusCode;
      this.latencyUs = (now - this.attemptStarted) * 1000;
      clearTimeout(this.watch);
      this.watch = undefined;
      c.abort(new ClientGoneError());
      return;
    }
    const out = downstreamHeaders(headers);
    if (this.opts.servedByHeader) out[this.opts.servedByHeader] = this.backend;
    out['x-request-id'] = this.requestId;
    if (this.opts.closing) this.res.shouldKeepAlive = false;
    // The reason phrase is not forwarded: undici decodes it as UTF-8 and a Latin-1 phrase would
    // make writeHead throw; Node writes the standard phrase for the status (RFC 9112 4: clients
    // ignore it). If writeHead still throws (a header Node refuses), undici aborts and
    // onResponseError answers 502 before anything was counted as a response.
    // Written with the first body byte (or the end), not now: a body that breaks before its first
    // byte (malformed chunked framing, a reset) then still gets the client a clean 502.
    this.head = out;
    this.responded = true;
    this.status = statusCode;
    this.latencyUs = (now - this.attemptStarted) * 1000;
    if (this.capture !== undefined) this.capture.head(statusCode, headers, this.latencyUs);
  }

  /** The response head, held since onResponseStart; false when Node refused it (undici then aborts). */
  private writeHead(c: Controller): boolean {
    if (this.head === undefined) return true;
    try {
      this.res.writeHead(this.status, this.head);
    } catch (err) {
      c.abort(err as Error);
      return false;
    }
    this.head = undefined;
    return true;
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    if (this.head !== undefined && !this.writeHead(c)) return;
    if (this.capture !== undefined) this.capture.data(chunk);
    if (!this.res.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true;
      c.pause();
      this.res.once('drain', () => {
        this.waitingDrain = false;
        this.controller?.resume();
      });
      destroyIfNoDrain(this.res, this.opts.clientSendMs);
    }
  }

  onResponseEnd(c: Controller): void {
    if (this.head !== undefined && !this.writeHead(c)) return;
    this.res.end();
    this.finish('ok', null);
  }

  onResponseError(_c: Controller, err: Error): void {
    if (this.outcome !== '') return; // refused by cutover already: what the upstream does next is moot
    if (completeWithoutBody(this.status, err)) return this.onResponseEnd(_c);
    if (this.head !== undefined) {
      // Headers came but no byte of the response reached the client: answer as if none came.
      this.head = undefined;
      this.responded = false;
    }
    if (this.clientGone || err instanceof ClientGoneError) {
      // Without a response, the record carries the request's age: slow if it passed the
      // threshold. A watched upstream that failed on its own (timeout, reset) is still evidence.
      const kind = err instanceof ClientGoneError ? null : errorKind(err);
      if (!this.responded) this.latencyUs = (this.opts.now() - this.attemptStarted) * 1000;
      this.latencyUs = recordedLatencyUs(this.latencyUs, kind, this.cluster.responseMs);
      this.finish(kind ?? 'aborted', kind);
      return;
    }
    const code = (err as { code?: string }).code;
    if (!this.responded && code !== undefined && REFUSED_BY_UNDICI.has(code)) {
      // cutover could not forward the request as the client sent it: the client's error (400),
      // never the backend's.
      this.refuse(400, 'bad_request', `cutover cannot forward this request: ${err.message}`);
      return;
    }
    const kind = errorKind(err);
    if (this.responded) {
      // The body broke off after the headers went out: all we can do is cut the client off too.
      this.res.destroy(err);
      this.finish(kind, kind);
      return;
    }
    const failure = nodeFailure(err);
    if (failure) this.cluster.failed(this.node, failure);
    if (this.canRetry(failure)) {
      this.start();
      return;
    }
    this.latencyUs = recordedLatencyUs((this.opts.now() - this.attemptStarted) * 1000, kind, this.cluster.responseMs);
    const f = FAILURE[kind];
    if (this.opts.closing) this.res.shouldKeepAlive = false;
    sendError(this.res, f.status, f.code, kind === 'refused' && this.attempts < Math.max(2, this.cluster.nodes.length) ? 'the backend refused the connection' : f.message, {
      backend: this.backend,
      requestId: this.requestId,
    });
    this.finish(kind, kind);
  }

  /**
   * The client's error, found while its request was on the way (an unforwardable field, a body in
   * broken framing): answered by cutover, counted apart, never against the backend; the upstream
   * request is abandoned.
   */
  refuse(status: number, code: ErrorCode, message: string): void {
    if (this.outcome !== '') return;
    this.series.inFlight.delete(this.flight);
    this.outcome = 'refused-by-cutover';
    clearTimeout(this.watch);
    if (this.controller && !this.controller.aborted) this.controller.abort(new ClientGoneError());
    sendError(this.res, status, code, message, { requestId: this.requestId });
    this.opts.onRefused?.(this, status);
    if (this.capture !== undefined) this.capture.done(false);
    this.opts.onDone?.(this);
  }

  private canRetry(failure: ReturnType<typeof nodeFailure>): boolean {
    return mayRetry({
      method: this.req.method ?? 'GET',
      bodyRead: this.req.readableDidRead,
      failure,
      attempts: this.attempts,
      nodes: this.cluster.nodes.length,
      otherAvailable: this.cluster.available(this.node),
    });
  }

  /** The one record of this request, with everything known about it. */
  private finish(outcome: Exchange['outcome'], error: ErrorKind | null): void {
    if (this.outcome !== '') return;
    this.outcome = outcome;
    clearTimeout(this.watch);
    this.series.inFlight.delete(this.flight);
    this.series.record(this.opts.now(), this.responded ? this.status : 0, error, this.latencyUs, this.clientGone, this.flight.started);
    if (this.capture !== undefined) this.capture.done(outcome === 'ok');
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

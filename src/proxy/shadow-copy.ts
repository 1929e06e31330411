// One copy of a sampled request sent off the client's path (the shadow copy to the other
// cluster, or the noise copy to legacy): dispatched to a node through the cluster's pools (so
// outlier detection applies to it), its answer collected up to maxBodyBytes, bounded in time.
// Nothing waits for it; it reports once to `onDone`.
import type { Dispatcher } from 'undici';
import type { ParityResponse } from '../parity/compare.js';
import type { ErrorKind } from '../stats/series.js';
import type { Cluster, UpstreamNode } from './cluster.js';
import { errorKind, nodeFailure } from './error-kinds.js';

type Controller = Dispatcher.DispatchController;
export type Headers = Record<string, string | string[] | undefined>;

/** The copy was abandoned by cutover itself (over the limit, the primary failed): not the node's fault. */
export class Abandoned extends Error {
  readonly code = 'SHADOW_ABANDONED';
}
/** The copy's whole time (timeoutMs) passed. */
class ShadowTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/** pending → ok (a complete answer) | failed (error set when the node is to blame) | over (maxBodyBytes). */
export type CopyState = 'pending' | 'ok' | 'failed' | 'over';

export interface CopyTarget {
  path: string;
  method: string;
  headers: string[];
}

export class CopyRequest implements Dispatcher.DispatchHandler {
  state: CopyState = 'pending';
  status = 0;
  headers: Headers = {};
  latencyUs = 0;
  /** Why the node failed it; undefined when it answered or cutover abandoned it. */
  error: ErrorKind | undefined;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private controller: Controller | undefined;
  private abortWith: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private node: UpstreamNode | undefined;

  constructor(
    readonly cluster: Cluster,
    private readonly maxBodyBytes: number,
    private readonly timeoutMs: number | undefined,
    private readonly now: () => number,
    private readonly onDone: () => void,
  ) {}

  /** The answer, once `state` is ok (its body handed over once). */
  response(): ParityResponse {
    const body = Buffer.concat(this.chunks);
    this.chunks = [];
    return { status: this.status, headers: this.headers, body };
  }

  /** Dispatch to a node of the cluster; nothing waits for it. */
  send(to: CopyTarget, body: Buffer | null): void {
    if (this.state !== 'pending') return;
    const ms = this.timeoutMs ?? this.cluster.responseMs;
    this.node = this.cluster.next();
    this.started = this.now();
    this.timer = setTimeout(() => this.abort(new ShadowTimeout(`the shadow did not answer within ${ms} ms`)), ms);
    this.timer.unref();
    try {
      this.node.pool.dispatch({ path: to.path, method: to.method as 'GET', headers: to.headers, body, headersTimeout: ms, bodyTimeout: ms }, this);
    } catch (err) {
      this.failed(err as Error);
    }
  }

  /** Never sent: the request body was over maxBodyBytes. */
  skip(): void {
    if (this.state !== 'pending') return;
    this.state = 'over';
    this.finish();
  }

  abort(err: Error): void {
    if (this.state !== 'pending') return;
    if (this.controller) {
      if (!this.controller.aborted) this.controller.abort(err);
    } else this.abortWith = err;
    // A handler undici has not started yet (queued behind a busy pool) fails here and now.
    if (!this.controller) this.failed(err);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.abortWith) controller.abort(this.abortWith);
  }

  onResponseStart(_c: Controller, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return;
    if (this.node) this.cluster.responded(this.node, statusCode);
    this.status = statusCode;
    this.headers = headers;
    this.latencyUs = (this.now() - this.started) * 1000;
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    if (this.state !== 'pending') return;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBodyBytes) {
      this.state = 'over';
      this.chunks = [];
      c.abort(new Abandoned('the shadow answer is over maxBodyBytes'));
      this.finish();
      return;
    }
    this.chunks.push(Buffer.from(chunk));
  }

  onResponseEnd(): void {
    if (this.state !== 'pending') return;
    this.state = 'ok';
    this.finish();
  }

  onResponseError(_c: Controller, err: Error): void {
    this.failed(err);
  }

  private failed(err: Error): void {
    if (this.state !== 'pending') return;
    this.state = 'failed';
    this.chunks = [];
    if (!(err instanceof Abandoned)) {
      this.error = errorKind(err);
      const failure = nodeFailure(err);
      if (failure && this.node) this.cluster.failed(this.node, failure);
    }
    this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.onDone();
  }
}

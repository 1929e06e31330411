// Whether a failed attempt may be tried again on another node. Pure: the Exchange asks (what an
// error means for the node is proxy/error-kinds.ts).
import type { NodeFailure } from './outlier.js';

/** RFC 9110 section 9.2.2: methods whose intended effect is the same when repeated. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export interface RetryQuestion {
  method: string;
  /** Whether any of the request body has been read (it cannot be sent again). */
  bodyRead: boolean;
  failure: NodeFailure | undefined;
  /** Attempts made so far, the failed one included. */
  attempts: number;
  /** Nodes of the cluster, and those not ejected other than the one that failed. */
  nodes: number;
  otherAvailable: number;
}

/**
 * Try another node only when nothing reached the upstream (the connection was refused or never
 * established), the body is untouched and the method is idempotent. A refusal costs a round
 * trip, so each node may be tried once (as before); a connect timeout already cost connectMs,
 * so it is tried once more, no further.
 */
export function mayRetry(q: RetryQuestion): boolean {
  if (q.failure !== 'refused' && q.failure !== 'connect-timeout') return false; // the node may have acted on it
  if (q.bodyRead || !IDEMPOTENT.has(q.method) || q.otherAvailable === 0) return false;
  return q.failure === 'refused' ? q.attempts < q.nodes : q.attempts < 2;
}

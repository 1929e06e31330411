// Which upstream failures count against a node, and whether a failed attempt may be tried again
// on another node. Both pure: the Exchange asks, the cluster records.
import type { NodeFailure } from './outlier.js';

/** The node-level failure an undici error means; undefined when it says nothing about the node. */
export function nodeFailure(err: unknown): NodeFailure | undefined {
  switch ((err as { code?: string } | null)?.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      // UND_ERR_CLOSED (our pool was closed by a reload or shutdown), a header Node refused,
      // a client that went away: not the node's fault.
      return undefined;
  }
}

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

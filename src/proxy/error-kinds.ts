// One table from the error codes undici and the socket layer raise to what cutover makes of them:
// the kind a request's record counts (stats) and the failure a node's outlier detector hears.
// The two differ only where the fault is not the node's (UND_ERR_CLOSED: our own pool closed
// by a reload or shutdown) or where retrying cares how far it got (a connect timeout). And the
// one rule for the latency a timeout is recorded with.
import type { ErrorKind } from '../stats/series.js';
import type { NodeFailure } from './outlier.js';

interface Meaning {
  kind: ErrorKind;
  /** undefined: says nothing about the node. */
  failure: NodeFailure | undefined;
}

const MEANINGS = new Map<string, Meaning>([
  ['ECONNREFUSED', { kind: 'refused', failure: 'refused' }],
  ['UND_ERR_CONNECT_TIMEOUT', { kind: 'timeout', failure: 'connect-timeout' }],
  ['ECONNRESET', { kind: 'reset', failure: 'reset' }],
  ['EPIPE', { kind: 'reset', failure: 'reset' }],
  ['UND_ERR_SOCKET', { kind: 'reset', failure: 'reset' }],
  ['UND_ERR_CLOSED', { kind: 'reset', failure: undefined }],
  ['UND_ERR_HEADERS_TIMEOUT', { kind: 'timeout', failure: 'timeout' }],
  ['UND_ERR_BODY_TIMEOUT', { kind: 'timeout', failure: 'timeout' }],
  ['ETIMEDOUT', { kind: 'timeout', failure: 'timeout' }],
]);

/** A header Node refused, a client that went away, anything unlisted: 'other', not the node's. */
const UNKNOWN: Meaning = { kind: 'other', failure: undefined };

const meaning = (err: unknown): Meaning => {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && MEANINGS.get(code)) || UNKNOWN;
};

/** The kind of upstream failure a request's record counts. */
export const errorKind = (err: unknown): ErrorKind => meaning(err).kind;

/** The node-level failure an error means; undefined when it says nothing about the node. */
export const nodeFailure = (err: unknown): NodeFailure | undefined => meaning(err).failure;

/**
 * The latency a failed or finished request is recorded with: a timeout is a latency of at least
 * the timeout (the request waited that long and got nothing), whatever the clock says.
 */
export const recordedLatencyUs = (us: number, kind: ErrorKind | null, responseMs: number): number =>
  kind === 'timeout' ? Math.max(us, responseMs * 1000) : us;

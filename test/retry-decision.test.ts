// Whether a failed attempt is tried again on another node: only when nothing reached the
// upstream, the body is untouched and the method is idempotent (RFC 9110 section 9.2.2).
import { describe, expect, it } from 'vitest';
import { nodeFailure } from '../src/proxy/error-kinds.js';
import { mayRetry, type RetryQuestion } from '../src/proxy/retry.js';

const GET_REFUSED: RetryQuestion = { method: 'GET', bodyRead: false, failure: 'refused', attempts: 1, nodes: 2, otherAvailable: 1 };

describe('retry on another node', () => {
  it.each<[string, Partial<RetryQuestion>, boolean]>([
    ['a refused GET', {}, true],
    ['a GET whose connection timed out', { failure: 'connect-timeout' }, true],
    ['a refused POST (not idempotent)', { method: 'POST' }, false],
    ['a refused PATCH', { method: 'PATCH' }, false],
    ['a refused PUT whose body was read', { method: 'PUT', bodyRead: true }, false],
    ['a GET reset by the node (it may have acted on it)', { failure: 'reset' }, false],
    ['a GET that timed out waiting for headers', { failure: 'timeout' }, false],
    ['a failure that is not the node\'s', { failure: undefined }, false],
    ['no other node serving', { otherAvailable: 0 }, false],
    ['a single-node cluster', { nodes: 1, otherAvailable: 0 }, false],
    ['a refusal on the second of three nodes', { attempts: 2, nodes: 3 }, true],
    ['a refusal once every node was tried', { attempts: 3, nodes: 3 }, false],
    ['a connect timeout on the second attempt', { failure: 'connect-timeout', attempts: 2, nodes: 3 }, false],
  ])('%s: %s', (_name, q, expected) => {
    expect(mayRetry({ ...GET_REFUSED, ...q })).toBe(expected);
  });

  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])('a refused %s (idempotent)', (method) => {
    expect(mayRetry({ ...GET_REFUSED, method })).toBe(true);
  });

  it('maps undici errors to node failures', () => {
    const codes = ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED', 'CLIENT_GONE'];
    expect(codes.map((code) => nodeFailure({ code }))).toEqual(['refused', 'connect-timeout', 'reset', 'reset', 'timeout', undefined, undefined]);
  });
});

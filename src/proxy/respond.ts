// Responses cutover writes itself: JSON errors with a stable code.
import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.js';

export interface ErrorDetail {
  backend?: string;
  requestId?: string;
  [key: string]: unknown;
}

/** `{"error":{"code","message",...detail}}` with the given status; a no-op once headers are out. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  detail: ErrorDetail = {},
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, ...detail } });
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

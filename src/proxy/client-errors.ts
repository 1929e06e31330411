// A request node:http cannot parse (or that times out while arriving) gets an error response and
// the connection closes (RFC 9112 section 2.2: after a malformed request the stream is no longer
// in step). If responses are still owed on that connection, to valid requests that came before
// the bad bytes, they go out first and whole; the error response follows them. Writing the 400
// at once put it in the middle of a 200 still streaming, and dropped the answer to a valid
// pipelined request the backend had already executed.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { inProgress, whenIdle } from './pipeline.js';

/**
 * Answers the request in progress on `socket` with a 400 itself, when its response has not begun:
 * the bad bytes are in that request's body (a malformed chunk, say), so it is the one to refuse.
 * Returns false when there is nothing it can answer.
 */
export type RefuseInProgress = (res: ServerResponse, err: NodeJS.ErrnoException) => boolean;

const answered = new WeakSet<Duplex>();

/** The status node:http itself would send for this parser error. */
function statusLine(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** The server's 'clientError' listener. */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex, refuse: RefuseInProgress): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  // The parser stays in its error state, so more bytes from the client report the error again.
  if (answered.has(socket)) return;
  answered.add(socket);
  // A body that breaks off in bad framing (the request in progress is not whole yet): while no byte of its response is out, that request
  // gets the 400 (with Connection: close), rather than waiting on a backend for a body that
  // will never be whole.
  const res = inProgress(socket as Socket);
  if (res && !res.req.complete && !res.headersSent && refuse(res, err)) return;
  const reply = `HTTP/1.1 ${statusLine(err.code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
  whenIdle(socket as Socket, () => {
    if (socket.writable) socket.end(reply);
    else socket.destroy();
  });
}

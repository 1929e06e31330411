// A request node:http cannot parse (or that times out while arriving) gets an error response and
// the connection closes (RFC 9112 section 2.2: after a malformed request the stream is no longer
// in step). If responses are still owed on that connection, to valid requests that came before
// the bad bytes, they go out first and whole; the error response follows them. Writing the 400
// at once put it in the middle of a 200 still streaming, and dropped the answer to a valid
// pipelined request the backend had already executed.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { whenIdle } from './pipeline.js';

const answered = new WeakSet<Duplex>();

/** The status node:http itself would send for this parser error. */
function statusLine(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** The server's 'clientError' listener. */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  // The parser stays in its error state, so more bytes from the client report the error again.
  if (answered.has(socket)) return;
  answered.add(socket);
  const reply = `HTTP/1.1 ${statusLine(err.code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
  whenIdle(socket as Socket, () => {
    if (socket.writable) socket.end(reply);
    else socket.destroy();
  });
}

// Pipelined requests on one client connection are handled one at a time, as nginx does.
// node:http parses every pipelined request at once and calls the handler for each (it only queues
// the responses), so 1,000 pipelined GETs became 1,000 concurrent upstream requests and opened
// ~1,000 connections to one node. Responses must go out in request order anyway
// (RFC 9112 section 9.3.2), so nothing is lost by starting the next request when the previous
// response is over.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
/** Told when a response is over (finished, or its connection gone), before the next one starts. */
type OnClose = (res: ServerResponse) => void;

interface Line {
  busy: boolean;
  /** The response in progress, while busy. */
  current: ServerResponse | undefined;
  readonly queue: Array<[IncomingMessage, ServerResponse]>;
  /** Called once when the line has nothing in progress and nothing waiting. */
  onIdle: (() => void) | undefined;
}

const lines = new WeakMap<Socket, Line>();

/**
 * Wrap a request handler so that each connection has at most one request in progress. `onClose`
 * is the one 'close' listener a response gets (listeners are a measurable share of the request
 * path's cost, so the server's bookkeeping shares this one).
 */
export function oneAtATime(handler: Handler, onClose: OnClose): Handler {
  const run = (line: Line, socket: Socket, req: IncomingMessage, res: ServerResponse): void => {
    line.busy = true;
    line.current = res;
    res.on('close', () => {
      line.current = undefined;
      onClose(res);
      // (req.socket is null by now when the response finished normally: use the one kept.)
      const next = socket.destroyed ? undefined : line.queue.shift();
      if (next) return run(line, socket, next[0], next[1]);
      line.queue.length = 0; // the connection is gone: what waited on it will never be answered
      line.busy = false;
      const idle = line.onIdle;
      line.onIdle = undefined;
      idle?.();
    });
    handler(req, res);
  };
  return (req, res) => {
    const socket = req.socket;
    let line = lines.get(socket);
    if (!line) lines.set(socket, (line = { busy: false, current: undefined, queue: [], onIdle: undefined }));
    if (line.busy) line.queue.push([req, res]);
    else run(line, socket, req, res);
  };
}

/** Requests received on this connection and not yet answered (in progress or waiting). */
export function pending(socket: Socket): number {
  const line = lines.get(socket);
  return line ? (line.busy ? 1 : 0) + line.queue.length : 0;
}

/** Call `fn` once the connection has no request in progress or waiting (now, if it has none). */
export function whenIdle(socket: Socket, fn: () => void): void {
  const line = lines.get(socket);
  if (!line || !line.busy) return fn();
  line.onIdle = fn;
}

/** The response in progress on this connection, if any. */
export function inProgress(socket: Socket): ServerResponse | undefined {
  return lines.get(socket)?.current;
}

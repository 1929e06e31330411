// A client that stops reading would hold its request, and the upstream connection behind it,
// forever: the exchange pauses the upstream while the client's socket is full, and undici's body
// timeout does not run while it is paused. So a client gets listen.clientSendTimeoutMs (default
// 60 s, like nginx's send_timeout) between two successful writes; past it the connection is destroyed,
// which aborts the exchange as a client abort (never a backend error) and releases the upstream.
import type { ServerResponse } from 'node:http';

export class ClientStalledError extends Error {
  readonly code = 'CLIENT_STALLED';
  constructor(ms: number) {
    super(`the client read nothing for ${ms} ms`);
  }
}

/** Arm once per backpressure wait: destroy `res` unless it drains (or closes) within `ms`. */
export function destroyIfNoDrain(res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => res.destroy(new ClientStalledError(ms)), ms);
  const clear = () => {
    clearTimeout(timer);
    res.off('drain', clear);
    res.off('close', clear);
  };
  res.once('drain', clear);
  res.once('close', clear);
}

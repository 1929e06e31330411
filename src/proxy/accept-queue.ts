// How many connections the kernel has completed on a listening socket that the process has not
// accepted yet. Closing a listener resets every one of them (Linux: inet_csk_listen_stop sends a
// RST to each child still in the accept queue), and their clients may already have sent a request:
// so the drain closes the listener only once this is 0. When the event loop lags, connections wait
// there for as long as it lags; a plain node:http server.close() resets them.
import { readFileSync } from 'node:fs';

const LISTEN = '0A'; // TCP_LISTEN in /proc/net/tcp's "st" column

/**
 * The accept queue of the listener(s) on `port` (Linux: the rx_queue of LISTEN entries in
 * /proc/net/tcp and /proc/net/tcp6, which for a listener is its accept backlog). `undefined`
 * where /proc cannot be read (other systems): the caller then cannot wait for it.
 */
export function acceptQueueLength(port: number, read: (file: string) => string = (f) => readFileSync(f, 'latin1')): number | undefined {
  let found: number | undefined;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    const n = listenBacklog(text, port);
    if (n !== undefined) found = (found ?? 0) + n;
  }
  return found;
}

/** Sum of rx_queue over the LISTEN entries on `port` in one /proc/net/tcp{,6} text; undefined when none. */
export function listenBacklog(text: string, port: number): number | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let found: number | undefined;
  for (const line of text.split('\n')) {
    // "  sl  local_address rem_address st tx_queue:rx_queue ..."
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[3] !== LISTEN || !f[1].endsWith(hexPort)) continue;
    const rx = parseInt(f[4].split(':')[1] ?? '', 16);
    if (Number.isFinite(rx)) found = (found ?? 0) + rx;
  }
  return found;
}

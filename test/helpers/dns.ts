// A real DNS server on 127.0.0.1 (UDP, port 0) whose answers the test changes while it runs, and
// HTTP backends on several loopback addresses sharing one port (an upstream URL has one port,
// and every address of a name is reached on it). Encoding and decoding by dns-packet.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { isIP } from 'node:net';
import * as packet from 'dns-packet';

export interface TestDns {
  /** host:port, as dns.servers takes it. */
  server: string;
  port: number;
  /** The addresses a name answers with; a name not set answers NXDOMAIN. */
  set(name: string, addresses: string[]): void;
  /** Queries answered so far. */
  queries: number;
  /** Stop answering (the socket closes; the port is released, so queries are refused). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startDns(records: Record<string, string[]> = {}): Promise<TestDns> {
  const names = new Map(Object.entries(records).map(([k, v]) => [k.toLowerCase(), v]));
  const socket: Socket = createSocket('udp4');
  let open = true;
  const dns = { queries: 0 } as TestDns;
  socket.on('message', (msg, rinfo) => {
    let q: packet.Packet;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    dns.queries++;
    const question = q.questions?.[0];
    const addresses = question ? names.get(question.name.toLowerCase()) : undefined;
    const family = question?.type === 'AAAA' ? 6 : 4;
    const answers = (addresses ?? [])
      .filter((a) => isIP(a) === family)
      .map((data) => ({ type: family === 6 ? ('AAAA' as const) : ('A' as const), class: 'IN' as const, name: question!.name, ttl: 0, data }));
    const reply = packet.encode({
      id: q.id,
      type: 'response',
      // RD copied, RA set; NXDOMAIN (rcode 3) for a name the server does not know.
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (addresses === undefined ? 3 : 0),
      questions: q.questions,
      answers,
    });
    if (open) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = (socket.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!open) return resolve();
      open = false;
      socket.close(() => resolve());
    });
  return Object.assign(dns, {
    server: `127.0.0.1:${port}`,
    port,
    set: (name: string, addresses: string[]) => void names.set(name.toLowerCase(), addresses),
    stop,
    close: stop,
  });
}

export interface AddressBackend {
  address: string;
  /** Requests that reached it. */
  hits: number;
  /** TCP connections open to it now. */
  connections: number;
}

export interface SamePortBackends {
  port: number;
  byAddress: Record<string, AddressBackend>;
  close(): Promise<void>;
}

type Handler = (b: AddressBackend, req: IncomingMessage, res: ServerResponse) => void;

const answerAddress: Handler = (b, req, res) => {
  req.resume();
  res.end(b.address);
};

/**
 * HTTP servers on each of `addresses` (127.x.y.z) on one free port, each answering with its own
 * address unless a handler for it says otherwise. A port free on the first address can be taken
 * on another, so a few ports are tried.
 */
export async function startSamePortBackends(addresses: string[], handlers: Record<string, Handler> = {}): Promise<SamePortBackends> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const servers: Server[] = [];
    const byAddress: Record<string, AddressBackend> = {};
    let port = 0;
    try {
      for (const address of addresses) {
        const b: AddressBackend = { address, hits: 0, connections: 0 };
        const handler = handlers[address] ?? answerAddress;
        const server = createServer((req, res) => {
          b.hits++;
          handler(b, req, res);
        });
        server.on('connection', (s: NetSocket) => {
          b.connections++;
          s.once('close', () => b.connections--);
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, address, () => resolve());
        });
        servers.push(server);
        byAddress[address] = b;
        port = (server.address() as AddressInfo).port;
      }
      return {
        port,
        byAddress,
        close: () => closeAll(servers),
      };
    } catch {
      await closeAll(servers);
    }
  }
  throw new Error(`no free port on all of ${addresses.join(', ')}`);
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  ).then(() => undefined);
}

/** A config with `upstream` as legacy's only upstream, discovered through `dns` every second, all traffic to legacy. */
export function discoveryBackends(upstream: string, dnsServer: string, discovery: Record<string, unknown> = {}, legacy: Record<string, unknown> = {}) {
  return {
    backends: {
      legacy: { upstreams: [upstream], discovery: { type: 'dns', refreshSeconds: 1, jitter: 0, ...discovery }, ...legacy },
      candidate: { upstreams: ['http://127.0.0.1:9'] },
    },
    dns: { servers: [dnsServer] },
  };
}

/** The origins of a backend's nodes in GET /api/v1/status. */
export async function nodeOrigins(adminUrl: string, backend = 'legacy'): Promise<string[]> {
  const res = await fetch(`${adminUrl}/api/v1/status`);
  const body = (await res.json()) as { nodes: Record<string, Array<{ origin: string }>> };
  return body.nodes[backend].map((n) => n.origin);
}

// A DNS server in the bench process (UDP on 127.0.0.1, port 0) answering A records for fixed
// names with ttl 0: what cutover's discovery resolves in the nodes scenario. dns-packet encodes
// and decodes; an unknown name answers NXDOMAIN.
import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';

/** Resolves { server: '127.0.0.1:PORT', queries(), close() }. */
export async function startDns(records) {
  const socket = createSocket('udp4');
  let queries = 0;
  socket.on('message', (msg, rinfo) => {
    let q;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    queries++;
    const question = q.questions?.[0];
    const addresses = question ? records[question.name.toLowerCase()] : undefined;
    const answers = question?.type === 'A' ? (addresses ?? []).map((data) => ({ type: 'A', class: 'IN', name: question.name, ttl: 0, data })) : [];
    const flags = packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (addresses === undefined ? 3 : 0);
    socket.send(packet.encode({ id: q.id, type: 'response', flags, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries: () => queries,
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}

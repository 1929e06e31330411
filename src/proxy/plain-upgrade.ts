// Only WebSocket upgrades are proxied as upgrades. node:http hands every request carrying
// `Connection: upgrade` to the 'upgrade' listener once there is one, so `Upgrade: h2c` (what
// `curl --http2` sends on http://) used to lose its connection with no response. A server may
// ignore an upgrade it does not support and answer over HTTP/1.1 (RFC 9110 section 7.8); such a
// request is served like any other (Upgrade, Connection and what Connection names, here
// HTTP2-Settings, are hop-by-hop and not forwarded), and the connection closes after the
// response, since node's parser has let go of it. (Node 20 has no shouldUpgradeCallback server
// option to keep the request in the normal path; it arrived in later Node versions.)
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const u = req.headers.upgrade;
  return u !== undefined && u.split(',').some((t) => t.trim().toLowerCase() === 'websocket');
}

/** A response for an upgrade request served as plain HTTP/1.1 on the socket node gave up. */
export function plainResponse(req: IncomingMessage, socket: Duplex): ServerResponse {
  socket.on('error', () => socket.destroy());
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => socket.end());
  return res;
}

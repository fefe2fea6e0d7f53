import type http from 'node:http';

/**
 * The client's address. Behind `trustProxyHops` proxies that each append to X-Forwarded-For, the
 * client is the entry that many from the right; anything further left was written by the client
 * and is not trusted. Without trusted proxies the header is ignored.
 */
export function clientAddress(req: http.IncomingMessage, trustProxyHops: number): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops <= 0) return socket;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  const hops = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) return socket;
  return hops[Math.max(0, hops.length - trustProxyHops)]!;
}

import type http from 'node:http';

/** Pieces every emulator's pages and fault switches share. */

/** Escapes for element text and quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Sends an emulator page: never cached, never sniffed, with the page's own content policy. */
export function sendHtml(res: http.ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(html);
}

/** True when `pathname` is `prefix` or below it (a fault's `path` filter); any path without a prefix. */
export function pathMatches(pathname: string, prefix: string | undefined): boolean {
  if (prefix === undefined) return true;
  const base = prefix.replace(/\/+$/, '');
  return pathname === base || pathname.startsWith(`${base}/`);
}

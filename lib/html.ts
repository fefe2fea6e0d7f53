import type http from 'node:http';

/** Small server-rendered pages (mail links, PayPal's return, the emulators'): escaping and sending in one place. */

/** Escapes for element text and quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Sends a page: never cached, never sniffed; `headers` add the page's own content policy. */
export function sendHtml(
  res: http.ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(html);
}

/** A plain page with a title and a body (HTML: escape what is not ours), no script, readable on a phone. */
export const simplePage = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:60px auto;color:#1f2933"><h1 style="font-size:22px">${escapeHtml(title)}</h1>${body}</body></html>`;

/** The content policy of a page with no script: inline styles only, forms back to itself. */
export const NO_SCRIPT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

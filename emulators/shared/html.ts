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

/** True when `pathname` is `prefix` or below it (a fault's `path` filter); any path without a prefix. */
export function pathMatches(pathname: string, prefix: string | undefined): boolean {
  if (prefix === undefined) return true;
  const base = prefix.replace(/\/+$/, '');
  return pathname === base || pathname.startsWith(`${base}/`);
}

/** A titled table of an emulator's page, with how many rows it shows of how many. */
export function htmlTable(title: string, headings: string[], rows: unknown[][], total: number): string {
  const head = headings.map((heading) => `<th>${escapeHtml(heading)}</th>`).join('');
  const body = rows.length
    ? rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${headings.length}" class="empty">none</td></tr>`;
  const shown = total > rows.length ? ` (newest ${rows.length} of ${total})` : ` (${total})`;
  return `<h2>${escapeHtml(title)}${escapeHtml(shown)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The newest hundred, newest first. */
export const newest = <T>(items: T[]): T[] => [...items].reverse().slice(0, 100);

/** The webhook deliveries and active faults tables every emulator page with webhooks shows. */
export function deliveriesAndFaults(
  deliveries: Array<{
    at: string;
    eventId: string;
    type: string;
    attempt: number;
    status: number | 'error';
    error?: string;
  }>,
  faults: Array<{ remaining: number } & Record<string, unknown>>,
): string[] {
  return [
    htmlTable(
      'Webhook deliveries',
      ['At', 'Event', 'Type', 'Attempt', 'Status'],
      newest(deliveries).map((d) => [
        d.at,
        d.eventId,
        d.type,
        d.attempt,
        d.error ? `${d.status} (${d.error})` : d.status,
      ]),
      deliveries.length,
    ),
    htmlTable(
      'Active faults',
      ['Fault', 'Remaining'],
      faults.map(({ remaining, ...fault }) => [JSON.stringify(fault), remaining]),
      faults.length,
    ),
  ];
}

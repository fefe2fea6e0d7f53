/** Pieces every emulator's pages and fault switches share. */

import { escapeHtml } from '../../lib/html';

export { escapeHtml, sendHtml } from '../../lib/html';

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

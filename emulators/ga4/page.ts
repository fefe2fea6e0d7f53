import { escapeHtml, htmlTable, newest } from '../shared/html';
import type { Ga4ActiveFault } from './faults';
import type { ValidationMessage } from './validation';

/** One event GA4 would have recorded. */
export interface ReceivedEvent {
  at: string;
  measurementId: string;
  clientId: string;
  userId: string | null;
  name: string;
  params: Record<string, unknown>;
  timestampMicros: number | null;
}

/** An event (or a whole request) GA4 would have dropped, and why. */
export interface DroppedEvent {
  at: string;
  measurementId: string;
  name: string | null;
  reason: string;
}

/** One request, as the emulator saw it. */
export interface RecordedRequest {
  at: string;
  path: string;
  status: number | 'dropped';
  events: number;
  validationMessages: ValidationMessage[];
}

/** Everything the emulator holds, for `GET /__emulator/state` and the page. */
export interface Ga4EmulatorState {
  measurementId: string;
  received: ReceivedEvent[];
  dropped: DroppedEvent[];
  requests: RecordedRequest[];
  faults: Ga4ActiveFault[];
}

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #202124; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; font-size: 13px; }
th, td { border: 1px solid #dadce0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f4; } td.empty { color: #80868b; } code { font-size: 12px; }`;

/** The page at `/__emulator`: what GA4 would have recorded, what it would have dropped, the requests and faults. */
export function renderPage(state: Ga4EmulatorState): string {
  const tables = [
    htmlTable(
      'Received events',
      ['At', 'Event', 'Client id', 'Params'],
      newest(state.received).map((e) => [e.at, e.name, e.clientId, JSON.stringify(e.params)]),
      state.received.length,
    ),
    htmlTable(
      'Dropped (GA4 answers 2xx for these too)',
      ['At', 'Event', 'Why'],
      newest(state.dropped).map((d) => [d.at, d.name ?? '(request)', d.reason]),
      state.dropped.length,
    ),
    htmlTable(
      'Requests',
      ['At', 'Path', 'Status', 'Events', 'Validation messages'],
      newest(state.requests).map((r) => [
        r.at,
        r.path,
        r.status,
        r.events,
        r.validationMessages.map((m) => `${m.validationCode}: ${m.description}`).join(' · '),
      ]),
      state.requests.length,
    ),
    htmlTable(
      'Active faults',
      ['Fault', 'Remaining'],
      state.faults.map(({ remaining, ...fault }) => [JSON.stringify(fault), remaining]),
      state.faults.length,
    ),
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GA4 Measurement Protocol emulator</title><style>${STYLE}</style></head>
<body><h1>GA4 Measurement Protocol emulator</h1>
<p>Stream <code>${escapeHtml(state.measurementId)}</code>. <code>POST /mp/collect</code> records, <code>POST /debug/mp/collect</code> validates. State as JSON: <code>/__emulator/state</code>.</p>
${tables.join('\n')}
</body></html>`;
}

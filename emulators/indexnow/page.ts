import { escapeHtml, htmlTable, newest } from '../shared/html';
import type { IndexNowActiveFault } from './faults';

/** One accepted submission (200 or 202): what a search engine would now crawl. */
export interface ReceivedSubmission {
  id: number;
  at: string;
  method: 'GET' | 'POST';
  host: string;
  key: string;
  keyLocation: string | null;
  urlList: string[];
  /** 200 when the key file was fetched and matched, 202 when the key was accepted without a fetch. */
  status: 200 | 202;
}

/** Every request the endpoint answered (or dropped), accepted or not. */
export interface RecordedRequest {
  at: string;
  method: string;
  path: string;
  status: number | 'dropped';
  host: string | null;
  urls: number;
  reason?: string;
}

/** Everything the emulator holds, for `GET /__emulator/state` and the page. */
export interface IndexNowState {
  keys: string[];
  submissions: ReceivedSubmission[];
  requests: RecordedRequest[];
  faults: IndexNowActiveFault[];
}

const STYLE = `body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; font-size: 13px; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #e6e6e6; vertical-align: top; }
th { background: #f4f4f4; } td.empty { color: #777; }`;

/** The activity page: URLs received (newest first), every request with its answer, active faults. Refreshes itself. */
export function renderActivity(state: IndexNowState): string {
  const urls = state.submissions.reduce((n, s) => n + s.urlList.length, 0);
  const body = [
    `<h1>IndexNow emulator</h1>`,
    `<p>${state.submissions.length} submissions accepted, ${urls} URLs. Keys accepted without a key file: ${escapeHtml(state.keys.join(', ') || 'none')}.</p>`,
    htmlTable(
      'Submissions',
      ['At', 'Via', 'Host', 'Status', 'URLs', 'First URLs', 'Key location'],
      newest(state.submissions).map((s) => [
        s.at,
        s.method,
        s.host,
        s.status,
        s.urlList.length,
        s.urlList.slice(0, 3).join(' ') + (s.urlList.length > 3 ? ' …' : ''),
        s.keyLocation ?? '(https://host/<key>.txt)',
      ]),
      state.submissions.length,
    ),
    htmlTable(
      'Requests',
      ['At', 'Method', 'Host', 'URLs', 'Status', 'Reason'],
      newest(state.requests).map((r) => [r.at, r.method, r.host ?? '', r.urls, r.status, r.reason ?? '']),
      state.requests.length,
    ),
    htmlTable(
      'Active faults',
      ['Fault', 'Remaining'],
      state.faults.map(({ remaining, ...fault }) => [JSON.stringify(fault), remaining]),
      state.faults.length,
    ),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>IndexNow emulator</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

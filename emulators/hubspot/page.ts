import { escapeHtml } from '../shared/html';
import type { Contact } from './contacts';
import type { PropertyDefinition } from './properties';

/** Contact data comes from whatever the app wrote: no scripts, nothing loaded from elsewhere. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#ff7a59;color:#fff;padding:12px 24px}
main{padding:16px 24px;max-width:1400px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 20px}
th,td{border-bottom:1px solid #e3e5e8;padding:5px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
code,pre{background:#fff;border:1px solid #e3e5e8;padding:1px 4px}
pre{padding:10px;white-space:pre-wrap;word-break:break-word}
.muted{color:#777}.err{color:#b3261e}.ok{color:#1e7b34}
`;

export interface PageRequest {
  method: string;
  path: string;
  status: number;
  at: string;
  batchSize?: number;
}

export interface PageState {
  contacts: Contact[];
  properties: PropertyDefinition[];
  requests: PageRequest[];
  faults: unknown[];
  rateLimited: number;
  limits: { rateLimit: number; rateWindowMs: number; searchRateLimit: number; searchLagMs: number };
}

const SHOWN_REQUESTS = 100;

function contactRows(contacts: Contact[]): string {
  if (contacts.length === 0) return '<p class="muted">No contacts yet.</p>';
  const main = new Set(['email', 'firstname', 'lastname', 'hs_object_id', 'createdate', 'lastmodifieddate']);
  const rows = contacts
    .map((c) => {
      const p = c.properties;
      const other = Object.entries(p)
        .filter(([k]) => !main.has(k))
        .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(v)}`)
        .join('<br>');
      return `<tr><td>${escapeHtml(c.id)}</td><td>${escapeHtml(p.email)}</td><td>${escapeHtml([p.firstname, p.lastname].filter(Boolean).join(' '))}</td><td>${other}</td><td>${escapeHtml(c.createdAt)}</td><td>${escapeHtml(c.updatedAt)}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>id</th><th>email</th><th>name</th><th>other properties</th><th>created</th><th>updated</th></tr>${rows}</table>`;
}

function propertyRows(properties: PropertyDefinition[]): string {
  const custom = properties.filter((p) => !p.hubspotDefined);
  if (custom.length === 0) return '<p class="muted">Only HubSpot’s default contact properties.</p>';
  const rows = custom
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.label)}</td><td>${escapeHtml(p.type)} / ${escapeHtml(p.fieldType)}</td><td>${escapeHtml(p.groupName)}</td><td>${p.hasUniqueValue ? 'unique' : ''}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>name</th><th>label</th><th>type / fieldType</th><th>group</th><th></th></tr>${rows}</table>`;
}

function requestRows(requests: PageRequest[]): string {
  if (requests.length === 0) return '<p class="muted">No API requests yet.</p>';
  const rows = requests
    .slice(-SHOWN_REQUESTS)
    .reverse()
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.at)}</td><td>${escapeHtml(r.method)}</td><td>${escapeHtml(r.path)}</td><td class="${r.status < 400 ? 'ok' : 'err'}">${escapeHtml(r.status)}</td><td>${escapeHtml(r.batchSize ?? '')}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>at</th><th>method</th><th>path</th><th>status</th><th>batch</th></tr>${rows}</table>`;
}

export function renderPage(state: PageState): string {
  const { limits } = state;
  const body = `
<p>Rate limit ${escapeHtml(limits.rateLimit)} requests per ${escapeHtml(limits.rateWindowMs)} ms, search ${escapeHtml(limits.searchRateLimit)} per second,
search lag ${escapeHtml(limits.searchLagMs)} ms. Answered 429: ${escapeHtml(state.rateLimited)}.
State as JSON: <code>GET /__emulator/state</code>. Faults: <code>POST /__emulator/faults {"faults":[…]}</code>, <code>DELETE /__emulator/faults</code>; <code>POST /__emulator/reset</code>.</p>
<h2>Faults</h2>${state.faults.length === 0 ? '<p class="muted">None.</p>' : `<pre>${escapeHtml(JSON.stringify(state.faults, null, 2))}</pre>`}
<h2>Contacts (${escapeHtml(state.contacts.length)})</h2>${contactRows(state.contacts)}
<h2>Custom properties</h2>${propertyRows(state.properties)}
<h2>Recent requests</h2>${requestRows(state.requests)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>HubSpot emulator</title><style>${STYLE}</style></head>
<body><header><strong>HubSpot emulator</strong> · CRM contacts</header><main>${body}</main></body></html>`;
}

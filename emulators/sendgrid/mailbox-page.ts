import { escapeHtml } from '../shared/html';
import type { SendGridEvent } from './events';
import type { StoredMessage } from './mail-send';
import type { SingleSend } from './single-sends';

/**
 * The pages are built from other people's mail: no scripts at all, images from anywhere (emails link them),
 * inline styles (emails use them). The srcdoc iframe inherits this policy on top of its sandbox.
 */
export const PAGE_CSP =
  "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#1a82e2;color:#fff;padding:12px 24px}header a{color:#fff;text-decoration:none}
main{padding:16px 24px;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 20px}
th,td{border-bottom:1px solid #e3e5e8;padding:6px 10px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.k{width:160px;color:#555;white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#e3e5e8}
.delivered{background:#d4f5dc}.open,.click{background:#d7e9ff}.bounce,.dropped,.spamreport{background:#ffd9d6}
.unsubscribe,.group_unsubscribe{background:#fff0c2}.processed,.deferred{background:#eee}
iframe{width:100%;height:520px;border:1px solid #ccc;background:#fff}
pre{background:#fff;border:1px solid #e3e5e8;padding:10px;white-space:pre-wrap;word-break:break-word}
form{display:inline}button{margin:0 4px 4px 0;cursor:pointer}
.muted{color:#777}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><a href="/"><strong>SendGrid emulator</strong> · mailbox</a></header><main>${body}</main></body></html>`;
}

function formatAddress(a: { email: string; name?: string }): string {
  return a.name ? `${a.name} <${a.email}>` : a.email;
}

function badge(event: string): string {
  return `<span class="badge ${escapeHtml(event.replace(/[^a-z_]/g, ''))}">${escapeHtml(event)}</span>`;
}

/** The latest event per recipient, e.g. "delivered" or "a@x: open · b@y: bounce". */
export function messageStatus(message: StoredMessage, recipients: string[]): string {
  const latest = new Map<string, string>();
  for (const e of message.events) latest.set(e.email.toLowerCase(), e.event);
  const states = recipients.map((r) => latest.get(r.toLowerCase()) ?? 'accepted');
  if (new Set(states).size <= 1) return badge(states[0] ?? 'accepted');
  return recipients.map((r, i) => `${escapeHtml(r)}: ${badge(states[i] ?? 'accepted')}`).join('<br>');
}

export function messagePath(id: string, email: string): string {
  return `/__emulator/messages/${encodeURIComponent(id)}/${encodeURIComponent(email)}`;
}

export interface InboxEntry {
  message: StoredMessage;
  recipients: string[];
}

export interface InboxInfo {
  webhookUrl?: string;
  publicKey: string;
}

export function renderInbox(entries: InboxEntry[], singleSends: SingleSend[], info: InboxInfo): string {
  const rows = entries
    .map(({ message, recipients }) => {
      const subject = message.subject || (message.templateId ? `(template ${message.templateId})` : '(no subject)');
      const first = recipients[0] ?? '';
      return `<tr><td>${escapeHtml(message.receivedAt)}</td><td>${escapeHtml(message.to.map(formatAddress).join(', '))}</td>
<td><a href="${escapeHtml(messagePath(message.id, first))}">${escapeHtml(subject)}</a></td><td>${messageStatus(message, recipients)}</td></tr>`;
    })
    .join('\n');
  const messages =
    entries.length > 0
      ? `<table><thead><tr><th>Received</th><th>To</th><th>Subject</th><th>Status</th></tr></thead><tbody>${rows}</tbody></table>`
      : '<p class="muted">No mail yet. Send some through the SendGrid SDK pointed at this server.</p>';
  const sends =
    singleSends.length > 0
      ? `<h2>Single sends</h2><table><thead><tr><th>Name</th><th>Status</th><th>Send at</th><th>Recipients</th><th>Id</th></tr></thead><tbody>${singleSends
          .map(
            (ss) =>
              `<tr><td>${escapeHtml(ss.name)}</td><td>${badge(ss.status)}</td><td>${escapeHtml(ss.send_at ?? '')}</td><td>${ss.send_to.emails.length}</td><td>${escapeHtml(ss.id)}</td></tr>`,
          )
          .join('\n')}</tbody></table>`
      : '';
  const webhook = `<p class="muted">Event webhook: ${info.webhookUrl ? escapeHtml(info.webhookUrl) : 'not set'} · verification key: <code>${escapeHtml(info.publicKey)}</code> · <a href="/__emulator/state">state (JSON)</a></p>`;
  return page('SendGrid emulator · mailbox', `<h1>Mailbox (${entries.length})</h1>${messages}${sends}${webhook}`);
}

/** `<https://…>, <mailto:…>` as links; only http(s) and mailto become links. */
function listUnsubscribe(value: string): string {
  const targets = [...value.matchAll(/<([^>]+)>/g)].map((m) => m[1] ?? '');
  if (targets.length === 0) return escapeHtml(value);
  return targets
    .map((t) =>
      /^(https?:|mailto:)/i.test(t)
        ? `<a href="${escapeHtml(t)}" target="_blank" rel="noopener noreferrer">${escapeHtml(t)}</a>`
        : escapeHtml(t),
    )
    .join('<br>');
}

function row(key: string, valueHtml: string): string {
  return `<tr><td class="k">${escapeHtml(key)}</td><td>${valueHtml}</td></tr>`;
}

const SIMULATE = ['open', 'click', 'bounce', 'spamreport', 'unsubscribe', 'group_unsubscribe'] as const;

export function renderMessage(
  message: StoredMessage,
  email: string,
  recipients: string[],
  payloads: SendGridEvent[],
): string {
  const headerRows = [
    row('From', escapeHtml(formatAddress(message.from))),
    row('To', escapeHtml(message.to.map(formatAddress).join(', '))),
    message.cc ? row('Cc', escapeHtml(message.cc.map(formatAddress).join(', '))) : '',
    message.bcc ? row('Bcc', escapeHtml(message.bcc.map(formatAddress).join(', '))) : '',
    message.replyTo ? row('Reply-To', escapeHtml(formatAddress(message.replyTo))) : '',
    row('Subject', escapeHtml(message.subject)),
    row('Received', escapeHtml(message.receivedAt)),
    message.sendAt !== undefined ? row('Send at', escapeHtml(new Date(message.sendAt * 1000).toISOString())) : '',
    row('X-Message-Id', escapeHtml(message.id)),
  ];
  const listUnsub = Object.entries(message.headers).find(([k]) => k.toLowerCase() === 'list-unsubscribe');
  if (listUnsub) headerRows.push(row('List-Unsubscribe', listUnsubscribe(listUnsub[1])));
  const otherHeaders = Object.entries(message.headers).filter(([k]) => k.toLowerCase() !== 'list-unsubscribe');
  for (const [k, v] of otherHeaders) headerRows.push(row(k, escapeHtml(v)));
  headerRows.push(
    row(
      'Custom args',
      Object.keys(message.customArgs).length > 0
        ? Object.entries(message.customArgs)
            .map(([k, v]) => `<code>${escapeHtml(k)}</code> = ${escapeHtml(v)}`)
            .join('<br>')
        : '<span class="muted">none</span>',
    ),
    row(
      'Categories',
      message.categories.length > 0 ? message.categories.map(escapeHtml).join(', ') : '<span class="muted">none</span>',
    ),
  );
  if (message.asmGroupId !== undefined) headerRows.push(row('Unsubscribe group', escapeHtml(message.asmGroupId)));
  if (message.templateId) {
    headerRows.push(row('Template', `<code>${escapeHtml(message.templateId)}</code>`));
    if (message.dynamicTemplateData !== undefined) {
      headerRows.push(
        row('Template data', `<pre>${escapeHtml(JSON.stringify(message.dynamicTemplateData, null, 2))}</pre>`),
      );
    }
  }

  // srcdoc is an attribute: escaping it makes the browser hand the iframe the original HTML, with no way out
  // of the attribute. The sandbox (no allow-scripts, no allow-same-origin) keeps the mail's HTML inert.
  // Links open in a new tab, as in a mail client: followed inside the frame, a site that refuses to be
  // framed (the gateway does) would leave only the browser's error page where the mail was.
  const htmlPart =
    message.html !== undefined
      ? `<h2>HTML</h2><iframe sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="HTML part" srcdoc="${escapeHtml(`<base target="_blank">${message.html}`)}"></iframe>`
      : message.templateId
        ? '<p class="muted">Rendered by SendGrid from the template; the emulator keeps the template id and data only.</p>'
        : '';
  const textPart = message.text !== undefined ? `<h2>Text</h2><pre>${escapeHtml(message.text)}</pre>` : '';

  const eventRows = payloads
    .map((p) => {
      const { email: to, event, timestamp, ...rest } = p;
      const at = new Date(timestamp * 1000).toISOString();
      return `<tr><td>${escapeHtml(at)}</td><td>${escapeHtml(to)}</td><td>${badge(event)}</td><td><code>${escapeHtml(JSON.stringify(rest))}</code></td></tr>`;
    })
    .join('\n');
  const events =
    payloads.length > 0
      ? `<table><thead><tr><th>Time</th><th>Recipient</th><th>Event</th><th>Payload</th></tr></thead><tbody>${eventRows}</tbody></table>`
      : '<p class="muted">No events yet.</p>';

  const simulate = recipients
    .map(
      (r) =>
        `<div>${escapeHtml(r)}: ${SIMULATE.map(
          (ev) =>
            `<form method="post" action="/__emulator/events"><input type="hidden" name="messageId" value="${escapeHtml(message.id)}"><input type="hidden" name="email" value="${escapeHtml(r)}"><input type="hidden" name="event" value="${ev}"><input type="hidden" name="redirect" value="${escapeHtml(messagePath(message.id, email))}"><button type="submit">${ev}</button></form>`,
        ).join('')}</div>`,
    )
    .join('');

  return page(
    `${message.subject || message.templateId || 'message'} · SendGrid emulator`,
    `<p><a href="/">← mailbox</a></p><h1>${escapeHtml(message.subject || '(no subject)')}</h1>
<table>${headerRows.join('')}</table>${htmlPart}${textPart}
<h2>Events</h2>${events}<h2>Simulate a recipient's action</h2>${simulate}`,
  );
}

export function renderNotFound(what: string): string {
  return page(
    'Not found · SendGrid emulator',
    `<p><a href="/">← mailbox</a></p><h1>Not found</h1><p>${escapeHtml(what)}</p>`,
  );
}

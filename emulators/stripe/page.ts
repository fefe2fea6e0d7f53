import { deliveriesAndFaults, escapeHtml, htmlTable, newest } from '../shared/html';
import { formatAmount } from './currencies';
import type { ActiveFault } from './faults';
import type { Charge, PaymentIntent, RecordedRequest, Refund, StripeEvent } from './types';
import type { WebhookDelivery } from './webhooks';

/** Everything the emulator holds, for `GET /__emulator/state` and the page. */
export interface EmulatorState {
  webhookUrl: string | null;
  paymentIntents: PaymentIntent[];
  charges: Charge[];
  refunds: Refund[];
  events: StripeEvent[];
  requests: RecordedRequest[];
  deliveries: WebhookDelivery[];
  faults: ActiveFault[];
}

const time = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);

/** A plain page for people: what the emulator received and sent, newest first. */
export function renderPage(state: EmulatorState): string {
  const metadata = (value: Record<string, string>) =>
    Object.entries(value)
      .map(([key, item]) => `${key}=${item}`)
      .join(', ');
  const sections = [
    htmlTable(
      'Payment intents',
      ['Created', 'Id', 'Status', 'Amount', 'Description', 'Metadata', 'Last error'],
      newest(state.paymentIntents).map((intent) => [
        time(intent.created),
        intent.id,
        intent.status,
        formatAmount(intent.amount, intent.currency),
        intent.description ?? '',
        metadata(intent.metadata),
        intent.last_payment_error
          ? `${intent.last_payment_error.decline_code ?? intent.last_payment_error.code}: ${intent.last_payment_error.message}`
          : '',
      ]),
      state.paymentIntents.length,
    ),
    htmlTable(
      'Refunds',
      ['Created', 'Id', 'Payment intent', 'Amount', 'Reason', 'Status'],
      newest(state.refunds).map((refund) => [
        time(refund.created),
        refund.id,
        refund.payment_intent,
        formatAmount(refund.amount, refund.currency),
        refund.reason ?? '',
        refund.status,
      ]),
      state.refunds.length,
    ),
    htmlTable(
      'Events',
      ['Created', 'Id', 'Type', 'Object', 'Pending webhooks'],
      newest(state.events).map((event) => [
        time(event.created),
        event.id,
        event.type,
        event.data.object.id,
        event.pending_webhooks,
      ]),
      state.events.length,
    ),
    htmlTable(
      'Requests',
      ['At', 'Method', 'Path', 'Status', 'Idempotency key', 'Request id'],
      newest(state.requests).map((request) => [
        request.at,
        request.method,
        request.path,
        request.status,
        request.idempotencyKey ?? '',
        request.requestId,
      ]),
      state.requests.length,
    ),
    ...deliveriesAndFaults(state.deliveries, state.faults),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Stripe emulator</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1a1f36; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
th { background: #f6f9fc; }
td.empty { color: #8792a2; }
code { background: #f6f9fc; padding: 0 0.2rem; }
</style>
</head>
<body>
<h1>Stripe emulator</h1>
<p>Webhooks go to <code>${escapeHtml(state.webhookUrl ?? 'nowhere (no webhook URL set)')}</code>. JSON: <a href="/__emulator/state">/__emulator/state</a>. This page reloads every 5 s.</p>
${waitingForAuthentication(state.paymentIntents)}
${sections.join('\n')}
</body>
</html>
`;
}

/** Links to the 3-D Secure page of every payment waiting for it, so a person can finish one from here. */
function waitingForAuthentication(intents: PaymentIntent[]): string {
  const waiting = newest(intents).filter((intent) => intent.status === 'requires_action');
  if (!waiting.length) return '';
  const items = waiting.map((intent) => {
    const href = `/__emulator/payment_intents/${encodeURIComponent(intent.id)}/authenticate`;
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(intent.id)}</a>: ${escapeHtml(formatAmount(intent.amount, intent.currency))} ${escapeHtml(intent.description ?? '')}</li>`;
  });
  return `<h2>Waiting for 3-D Secure (${waiting.length})</h2>\n<ul>\n${items.join('\n')}\n</ul>`;
}

/** The page a `redirect_to_url` next action sends the customer to: pass or fail 3-D Secure. */
export function renderAuthenticatePage(intent: PaymentIntent, returnUrl: string | undefined): string {
  const action = `/__emulator/payment_intents/${encodeURIComponent(intent.id)}/complete_action${returnUrl ? `?return_url=${encodeURIComponent(returnUrl)}` : ''}`;
  const button = (outcome: string, label: string) =>
    `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="outcome" value="${outcome}"><button type="submit">${label}</button></form>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>3D Secure test payment</title>
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; } form { display: inline-block; margin-right: 1rem; }</style></head>
<body>
<h1>3D Secure test payment</h1>
<p>${escapeHtml(formatAmount(intent.amount, intent.currency))} for ${escapeHtml(intent.description ?? intent.id)} (${escapeHtml(intent.status)})</p>
${button('succeeded', 'Complete authentication')}
${button('failed', 'Fail authentication')}
</body>
</html>
`;
}

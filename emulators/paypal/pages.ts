import { fromDecimalString, formatMoney } from '../../lib/currencies';
import { deliveriesAndFaults, escapeHtml, htmlTable, newest } from '../shared/html';
import type { WebhookDelivery } from '../shared/webhooks';
import type { PayPalActiveFault } from './faults';
import type { PayPalEvent, StoredOrder } from './store';

/** One API request as the emulator saw it. */
export interface RecordedRequest {
  at: string;
  method: string;
  path: string;
  status: number | 'dropped';
  debugId: string;
  /** The PayPal-Request-Id it carried. */
  requestId?: string;
  /** Whether it was answered from an earlier request with that id. */
  replayed?: boolean;
}

/** Everything the emulator holds, for `GET /__emulator/state` and the page. */
export interface EmulatorState {
  webhookUrl: string | null;
  webhookId: string;
  orderTtlMs: number;
  tokens: { lifetimeSeconds: number; tokenRequests: number; tokensIssued: number; activeTokens: number };
  orders: Array<
    Record<string, unknown> & {
      emulator: { expired: boolean; funding: string | null; returnUrl: string | null; cancelUrl: string | null };
    }
  >;
  captures: Array<Record<string, unknown>>;
  refunds: Array<Record<string, unknown>>;
  events: PayPalEvent[];
  deliveries: WebhookDelivery[];
  requests: RecordedRequest[];
  faults: PayPalActiveFault[];
}

/** The pages' policy: inline styles only; forms post to the emulator, which redirects to the merchant. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #001c64; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; font-size: 13px; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
th { background: #f5f7fa; } td.empty { color: #6c7378; } code { background: #f5f7fa; padding: 0 0.2rem; }
.card { max-width: 26rem; margin: 3rem auto; padding: 1.5rem; border: 1px solid #d9dde3; border-radius: 0.75rem; }
.amount { font-size: 2rem; font-weight: 600; margin: 0.5rem 0 1rem; }
button { font: inherit; padding: 0.6rem 1.2rem; border-radius: 2rem; border: 1px solid #003087; cursor: pointer; }
button.primary { background: #ffc439; border-color: #ffc439; color: #001c64; font-weight: 600; width: 100%; margin-top: 1rem; }
button.secondary { background: #fff; width: 100%; margin-top: 0.5rem; } label { display: block; margin-top: 1rem; } select { font: inherit; width: 100%; padding: 0.4rem; }`;

const page = (title: string, body: string, refresh = false) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${refresh ? '<meta http-equiv="refresh" content="5">\n' : ''}<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;

const amountOf = (order: StoredOrder) =>
  formatMoney(
    fromDecimalString(order.unit.amount.value, order.unit.amount.currency_code),
    order.unit.amount.currency_code,
  );

/** `/checkoutnow?token=ORDER_ID`: the payer approves (choosing how the payment will fund) or cancels. */
export function renderCheckout(order: StoredOrder): string {
  const merchant = order.brandName ?? 'SayPro';
  const hidden = `<input type="hidden" name="token" value="${escapeHtml(order.id)}">`;
  return page(
    `Pay with PayPal: ${merchant}`,
    `<main class="card">
<h1>PayPal (emulator)</h1>
<p>Pay <strong>${escapeHtml(merchant)}</strong>${order.unit.description ? ` for ${escapeHtml(order.unit.description)}` : ''}</p>
<p class="amount" id="amount">${escapeHtml(amountOf(order))}</p>
<form method="post" action="/checkoutnow/approve">
${hidden}
<label for="funding">Pay with</label>
<select id="funding" name="funding">
<option value="balance">PayPal balance (the capture completes)</option>
<option value="pending">Bank account by eCheck (the capture stays pending)</option>
<option value="declined">A card that is declined at capture</option>
</select>
<button type="submit" id="approve" class="primary">Approve</button>
</form>
<form method="post" action="/checkoutnow/cancel">
${hidden}
<button type="submit" id="cancel" class="secondary">Cancel and return to ${escapeHtml(merchant)}</button>
</form>
<p><small>Order <code>${escapeHtml(order.id)}</code></small></p>
</main>`,
  );
}

/** What the payer sees when there is nothing to approve, or no merchant page to return to. */
export function renderCheckoutMessage(title: string, message: string): string {
  return page(
    title,
    `<main class="card"><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(message)}</p></main>`,
  );
}

const amount = (value: unknown) => {
  const money = value as { value?: string; currency_code?: string } | undefined;
  return money?.value ? `${money.value} ${money.currency_code}` : '';
};

/** `/__emulator`: what the emulator was asked and what it did, newest first. */
export function renderActivity(state: EmulatorState): string {
  const unit = (order: Record<string, unknown>) => (order.purchase_units as Array<Record<string, unknown>>)[0] ?? {};
  const sections = [
    htmlTable(
      'Orders',
      ['Created', 'Id', 'Status', 'Amount', 'custom_id', 'Funding', 'Return URL'],
      newest(state.orders).map((order) => [
        order.create_time,
        order.id,
        order.emulator.expired ? 'EXPIRED (never approved)' : order.status,
        amount(unit(order).amount),
        unit(order).custom_id ?? '',
        order.emulator.funding ?? '',
        order.emulator.returnUrl ?? '',
      ]),
      state.orders.length,
    ),
    htmlTable(
      'Captures',
      ['Created', 'Id', 'Status', 'Amount', 'custom_id'],
      newest(state.captures).map((c) => [c.create_time, c.id, c.status, amount(c.amount), c.custom_id ?? '']),
      state.captures.length,
    ),
    htmlTable(
      'Refunds',
      ['Created', 'Id', 'Status', 'Amount'],
      newest(state.refunds).map((r) => [r.create_time, r.id, r.status, amount(r.amount)]),
      state.refunds.length,
    ),
    htmlTable(
      'Webhook events',
      ['Created', 'Id', 'Type', 'Resource'],
      newest(state.events).map((e) => [e.create_time, e.id, e.event_type, e.resource.id]),
      state.events.length,
    ),
    htmlTable(
      'Requests',
      ['At', 'Method', 'Path', 'Status', 'PayPal-Request-Id', 'Debug id'],
      newest(state.requests).map((r) => [
        r.at,
        r.method,
        r.path,
        r.replayed ? `${r.status} (replayed)` : r.status,
        r.requestId ?? '',
        r.debugId,
      ]),
      state.requests.length,
    ),
    ...deliveriesAndFaults(state.deliveries, state.faults),
  ];
  const t = state.tokens;
  return page(
    'PayPal emulator',
    `<h1>PayPal emulator</h1>
<p>Webhooks (id <code>${escapeHtml(state.webhookId)}</code>) go to <code>${escapeHtml(state.webhookUrl ?? 'nowhere (no webhook URL set)')}</code>.
Access tokens: ${t.tokenRequests} requested, ${t.tokensIssued} issued, ${t.activeTokens} valid, lifetime ${t.lifetimeSeconds} s.
Unapproved orders expire after ${Math.round(state.orderTtlMs / 1000)} s. JSON: <a href="/__emulator/state">/__emulator/state</a>. This page reloads every 5 s.</p>
${sections.join('\n')}`,
    true,
  );
}

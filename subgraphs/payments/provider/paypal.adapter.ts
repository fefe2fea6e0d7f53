import { Pool } from 'undici';
import { AmountPrecisionError, fromDecimalString, paypalDecimals, toDecimalString } from '../../../lib/currencies';
import type { Logger } from '../../../lib/logger';
import { recordProviderCall, routeOf } from '../../../lib/metrics';
import { createTokenCache } from '../../../lib/oauth-token';
import {
  CheckoutError,
  type CaptureOutcome,
  type CheckoutCapture,
  type CheckoutEvent,
  type CheckoutGateway,
  type CheckoutOrderState,
  type CheckoutRefundRequest,
  type CheckoutRequest,
} from './checkout-gateway.port';
import { WebhookSignatureError, type RefundOutcome } from './payment-gateway.port';

export interface PayPalAdapterOptions {
  clientId: string;
  /** Sent only to the token endpoint, in the Basic header; never logged. */
  clientSecret: string;
  /** PayPal's REST API (https://api-m.paypal.com, the sandbox's, or the emulator's). */
  apiUrl: string;
  /** The webhook id deliveries are verified for; null: verifyWebhook refuses every delivery. */
  webhookId: string | null;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  /** An access token is replaced this long before PayPal says it expires, ms (at most half its lifetime). @default 60000 */
  refreshBeforeMs?: number;
  /** Keep-alive connections to PayPal. @default 16 */
  connections?: number;
  logger: Logger;
}

/**
 * The PayPal-Request-Id of each write, from our ids: the same on every attempt, so a retry after a
 * lost answer gets the first result (PayPal keeps Orders ids 6 hours). One order per payment id.
 */
export const paypalRequestId = {
  createOrder: (paymentId: string) => `saypro-order-${paymentId}`,
  capture: (paymentId: string, orderId: string) => `saypro-capture-${paymentId}-${orderId}`,
  refund: (paymentId: string, refundId: string) => `saypro-refund-${paymentId}-${refundId}`,
};

interface Answer {
  status: number;
  body: Record<string, unknown>;
  debugId?: string;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const asArray = (value: unknown): Json[] => (Array.isArray(value) ? value.map(asObject) : []);

/** Issues that say our request was wrong (not the state of the order): not retried, not a conflict. */
const REJECTED_ISSUES = new Set([
  'DECIMAL_PRECISION',
  'DECIMALS_NOT_SUPPORTED',
  'CURRENCY_NOT_SUPPORTED',
  'CANNOT_BE_ZERO_OR_NEGATIVE',
  'PAYPAL_REQUEST_ID_PREVIOUSLY_USED',
  'INVALID_PARAMETER_VALUE',
]);

/** PayPal's answer → our error: one status-to-kind map. */
export function checkoutErrorOf(status: number, body: Json, debugId: string | undefined): CheckoutError {
  const detail = asArray(body.details)[0] ?? {};
  const issue =
    typeof detail.issue === 'string'
      ? detail.issue
      : typeof body.error === 'string'
        ? body.error
        : typeof body.name === 'string'
          ? body.name
          : undefined;
  const field = typeof detail.field === 'string' ? detail.field : undefined;
  const kind: CheckoutError['kind'] =
    status === 429 || status >= 500 || status === 409 || issue === 'PREVIOUS_REQUEST_IN_PROGRESS'
      ? 'unavailable'
      : status === 401 || status === 403
        ? 'auth'
        : status === 404
          ? 'not_found'
          : status === 422 && !REJECTED_ISSUES.has(issue ?? '')
            ? 'conflict'
            : 'rejected';
  const said =
    typeof detail.description === 'string'
      ? detail.description
      : typeof body.message === 'string'
        ? body.message
        : typeof body.error_description === 'string'
          ? body.error_description
          : '';
  return new CheckoutError(kind, `PayPal answered ${status}${issue ? ` ${issue}` : ''}${said ? `: ${said}` : ''}`, {
    status,
    issue,
    debugId,
    field,
  });
}

const CAPTURE_STATUS: Record<string, CheckoutCapture['status']> = {
  COMPLETED: 'completed',
  PENDING: 'pending',
  DECLINED: 'declined',
  FAILED: 'declined',
  PARTIALLY_REFUNDED: 'partially_refunded',
  REFUNDED: 'refunded',
};

/** Minor units → PayPal's decimal string, refusing what PayPal cannot take (a currency, a fraction of HUF). */
function paypalValue(amount: number, currency: string): string {
  const decimals = paypalDecimals(currency);
  if (decimals === undefined)
    throw new CheckoutError('rejected', `PayPal does not take ${currency}`, { issue: 'CURRENCY_NOT_SUPPORTED' });
  try {
    return toDecimalString(amount, currency, decimals);
  } catch (err) {
    if (err instanceof AmountPrecisionError || err instanceof RangeError)
      throw new CheckoutError('rejected', err.message, { issue: 'DECIMAL_PRECISION' }, { cause: err });
    throw err;
  }
}

const minorOf = (money: unknown): { amount: number; currency: string } => {
  const { value, currency_code: currency } = asObject(money);
  return { amount: fromDecimalString(String(value), String(currency)), currency: String(currency) };
};

function captureOf(json: Json, refunds: Json[] = []): CheckoutCapture {
  const { amount, currency } = minorOf(json.amount);
  const status = CAPTURE_STATUS[String(json.status)] ?? 'pending';
  const listed = refunds
    .filter((refund) => refund.status !== 'CANCELLED' && refund.status !== 'FAILED')
    .reduce((sum, refund) => sum + minorOf(refund.amount).amount, 0);
  const reason = asObject(json.status_details).reason;
  return {
    id: String(json.id),
    status,
    amount,
    currency,
    amountRefunded: status === 'refunded' ? amount : listed,
    ...(status === 'pending' && typeof reason === 'string' ? { pendingReason: reason } : {}),
  };
}

const linkOf = (json: Json, ...rels: string[]) =>
  asArray(json.links).find((link) => rels.includes(String(link.rel)))?.href as string | undefined;

function orderStateOf(json: Json): CheckoutOrderState {
  const unit = asArray(json.purchase_units)[0] ?? {};
  const { amount, currency } = minorOf(unit.amount);
  const payments = asObject(unit.payments);
  const capture = asArray(payments.captures)[0];
  const status = String(json.status);
  return {
    orderId: String(json.id),
    status: status === 'APPROVED' ? 'approved' : status === 'COMPLETED' ? 'completed' : 'created',
    amount,
    currency,
    ...(typeof unit.custom_id === 'string' ? { paymentId: unit.custom_id } : {}),
    ...(typeof unit.reference_id === 'string' && unit.reference_id !== 'default'
      ? { reference: unit.reference_id }
      : {}),
    ...(linkOf(json, 'payer-action', 'approve') && status !== 'APPROVED' && status !== 'COMPLETED'
      ? { approvalUrl: linkOf(json, 'payer-action', 'approve') }
      : {}),
    ...(capture ? { capture: captureOf(capture, asArray(payments.refunds)) } : {}),
  };
}

const TRANSMISSION_HEADERS = [
  'paypal-transmission-id',
  'paypal-transmission-time',
  'paypal-transmission-sig',
  'paypal-cert-url',
  'paypal-auth-algo',
] as const;

/**
 * PayPal over its REST API with undici: `@paypal/paypal-server-sdk` 2.5 cannot be pointed at another
 * base URL (its environments are two fixed hosts), and its token cache neither refreshes on a 401
 * nor recovers from a failed token request. No retries here: the provider policy (lib/resilience.ts)
 * retries, and every attempt reuses the write's PayPal-Request-Id. Every HTTP call is logged and
 * counted, never with the token or the secret.
 */
export function createPayPalAdapter(options: PayPalAdapterOptions): CheckoutGateway & { close(): Promise<void> } {
  const base = new URL(options.apiUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, { connections: options.connections ?? 16 });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger.child({ provider: 'paypal' });

  /** One HTTP request: logged and counted; a network failure or timeout becomes `unavailable`. */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    meta: { attempt: number; requestId?: string; tokenRefreshed?: boolean },
  ): Promise<Answer> {
    const started = Date.now();
    const operation = `${method} ${routeOf(path)}`;
    const fields = {
      method,
      path,
      paypalRequestId: meta.requestId,
      attempt: meta.attempt,
      ...(meta.tokenRefreshed ? { tokenRefreshed: true } : {}),
    };
    try {
      const res = await pool.request({
        method,
        path: `${prefix}${path}`,
        headers: { accept: 'application/json', ...headers },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      const debugId = typeof res.headers['paypal-debug-id'] === 'string' ? res.headers['paypal-debug-id'] : undefined;
      let parsed: Json = {};
      try {
        parsed = text ? asObject(JSON.parse(text)) : {};
      } catch {
        parsed = { name: 'UNPARSEABLE_RESPONSE', message: `not JSON (${text.length} bytes)` };
      }
      const durationMs = Date.now() - started;
      recordProviderCall({ provider: 'paypal', operation, status: res.statusCode, durationMs, attempt: meta.attempt });
      const line = { ...fields, status: res.statusCode, durationMs, paypalDebugId: debugId };
      if (res.statusCode < 400) log.info(line, 'paypal call');
      else
        log.warn(
          { ...line, errorName: parsed.name ?? parsed.error, issue: asArray(parsed.details)[0]?.issue },
          'paypal call failed',
        );
      return { status: res.statusCode, body: parsed, debugId };
    } catch (err) {
      const durationMs = Date.now() - started;
      recordProviderCall({ provider: 'paypal', operation, status: null, durationMs, attempt: meta.attempt });
      const reason =
        (err as Error).name === 'TimeoutError' || /timeout/i.test((err as Error).message)
          ? `no answer within ${timeoutMs} ms`
          : (err as Error).message;
      log.warn({ ...fields, status: null, durationMs, error: reason }, 'paypal call failed');
      throw new CheckoutError('unavailable', `PayPal did not answer ${method} ${path}: ${reason}`, {}, { cause: err });
    }
  }

  const tokens = createTokenCache({
    refreshBeforeMs: options.refreshBeforeMs,
    async fetch() {
      const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
      const answer = await send(
        'POST',
        '/v1/oauth2/token',
        { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        'grant_type=client_credentials',
        { attempt: 1 },
      );
      if (answer.status !== 200) throw checkoutErrorOf(answer.status, answer.body, answer.debugId);
      const { access_token: accessToken, expires_in: expiresIn } = answer.body;
      if (typeof accessToken !== 'string' || typeof expiresIn !== 'number')
        throw new CheckoutError('unavailable', 'PayPal answered the token request without a token', {
          debugId: answer.debugId,
        });
      return { accessToken, expiresInSeconds: expiresIn };
    },
  });

  /** An API call with the shared token; a 401 replaces the token once and sends the same request again. */
  async function api(
    method: 'GET' | 'POST',
    path: string,
    meta: { attempt: number; requestId?: string; json?: unknown },
  ): Promise<Json> {
    const body =
      meta.json === undefined ? undefined : typeof meta.json === 'string' ? meta.json : JSON.stringify(meta.json);
    const headers = (token: string): Record<string, string> => ({
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json', prefer: 'return=representation' } : {}),
      ...(meta.requestId ? { 'paypal-request-id': meta.requestId } : {}),
    });
    const token = await tokens.get();
    let answer = await send(method, path, headers(token), body, meta);
    if (answer.status === 401) {
      tokens.invalidate(token);
      answer = await send(method, path, headers(await tokens.get()), body, { ...meta, tokenRefreshed: true });
    }
    if (answer.status >= 400) throw checkoutErrorOf(answer.status, answer.body, answer.debugId);
    return answer.body;
  }

  const isTransient = (error: unknown) => error instanceof CheckoutError && error.kind === 'unavailable';

  async function getOrder(orderId: string): Promise<CheckoutOrderState> {
    return orderStateOf(await api('GET', `/v2/checkout/orders/${encodeURIComponent(orderId)}`, { attempt: 1 }));
  }

  return {
    async createOrder(request: CheckoutRequest, attempt: number) {
      const order = await api('POST', '/v2/checkout/orders', {
        attempt,
        requestId: paypalRequestId.createOrder(request.paymentId),
        json: {
          intent: 'CAPTURE',
          purchase_units: [
            {
              reference_id: request.reference ?? request.paymentId,
              custom_id: request.paymentId,
              description: request.description.slice(0, 127),
              amount: {
                currency_code: request.currency.toUpperCase(),
                value: paypalValue(request.amount, request.currency),
              },
            },
          ],
          payment_source: {
            paypal: {
              experience_context: {
                brand_name: request.brandName ?? 'SayPro',
                user_action: 'PAY_NOW',
                shipping_preference: 'NO_SHIPPING',
                return_url: request.returnUrl,
                cancel_url: request.cancelUrl,
              },
            },
          },
        },
      });
      const approvalUrl = linkOf(order, 'payer-action', 'approve');
      if (!approvalUrl)
        throw new CheckoutError('unavailable', `PayPal created order ${String(order.id)} without an approval link`);
      return { orderId: String(order.id), approvalUrl };
    },

    getOrder,

    async captureOrder(orderId: string, paymentId: string, attempt: number): Promise<CaptureOutcome> {
      try {
        const order = await api('POST', `/v2/checkout/orders/${encodeURIComponent(orderId)}/capture`, {
          attempt,
          requestId: paypalRequestId.capture(paymentId, orderId),
          json: {},
        });
        return { kind: 'captured', order: orderStateOf(order) };
      } catch (err) {
        if (!(err instanceof CheckoutError)) throw err;
        // Captured by an earlier call (another request id): the answer is that capture.
        if (err.details.issue === 'ORDER_ALREADY_CAPTURED') return { kind: 'captured', order: await getOrder(orderId) };
        if (err.details.issue === 'ORDER_NOT_APPROVED') return { kind: 'not_approved', orderId };
        if (err.details.issue === 'INSTRUMENT_DECLINED')
          return {
            kind: 'declined',
            orderId,
            code: err.details.issue,
            message: 'The payer’s funding source was declined; they can approve again with another.',
          };
        throw err;
      }
    },

    async getCapture(captureId: string) {
      const json = await api('GET', `/v2/payments/captures/${encodeURIComponent(captureId)}`, { attempt: 1 });
      const orderId = asObject(asObject(json.supplementary_data).related_ids).order_id as string | undefined;
      const paymentId = typeof json.custom_id === 'string' ? json.custom_id : undefined;
      let capture = captureOf(json);
      // A capture does not say how much of it was refunded; its order lists the refunds.
      if (capture.status === 'partially_refunded' && orderId) capture = (await getOrder(orderId)).capture ?? capture;
      return { ...capture, ...(orderId ? { orderId } : {}), ...(paymentId ? { paymentId } : {}) };
    },

    async refundCapture(request: CheckoutRefundRequest, attempt: number): Promise<RefundOutcome> {
      const refund = await api('POST', `/v2/payments/captures/${encodeURIComponent(request.captureId)}/refund`, {
        attempt,
        requestId: paypalRequestId.refund(request.paymentId, request.refundId),
        json:
          request.amount === undefined
            ? {}
            : {
                amount: {
                  currency_code: request.currency.toUpperCase(),
                  value: paypalValue(request.amount, request.currency),
                },
              },
      });
      const status =
        refund.status === 'COMPLETED'
          ? 'succeeded'
          : refund.status === 'CANCELLED' || refund.status === 'FAILED'
            ? 'failed'
            : 'pending';
      return { reference: String(refund.id), amount: minorOf(refund.amount).amount, status };
    },

    async verifyWebhook(rawBody, headers): Promise<CheckoutEvent> {
      const header = (name: string) => {
        const value = headers[name] ?? headers[name.toUpperCase()];
        return Array.isArray(value) ? value[0] : value;
      };
      if (!options.webhookId)
        throw new WebhookSignatureError('PAYPAL_WEBHOOK_ID is not set: PayPal webhooks cannot be verified');
      const missing = TRANSMISSION_HEADERS.filter((name) => !header(name));
      if (missing.length) throw new WebhookSignatureError(`missing ${missing.join(', ')}`);
      const raw = rawBody.toString('utf8');
      let event: Json;
      try {
        event = asObject(JSON.parse(raw));
      } catch {
        throw new WebhookSignatureError('body is not JSON');
      }
      if (typeof event.id !== 'string' || typeof event.event_type !== 'string')
        throw new WebhookSignatureError('body is not a PayPal event');
      // The event goes back byte for byte: what PayPal signed is a checksum of the body as sent.
      const fields = JSON.stringify({
        auth_algo: header('paypal-auth-algo'),
        cert_url: header('paypal-cert-url'),
        transmission_id: header('paypal-transmission-id'),
        transmission_sig: header('paypal-transmission-sig'),
        transmission_time: header('paypal-transmission-time'),
        webhook_id: options.webhookId,
      });
      const verdict = await api('POST', '/v1/notifications/verify-webhook-signature', {
        attempt: 1,
        json: `${fields.slice(0, -1)},"webhook_event":${raw}}`,
      });
      if (verdict.verification_status !== 'SUCCESS')
        throw new WebhookSignatureError('PayPal did not verify the webhook signature');
      const resource = asObject(event.resource);
      const id = event.id;
      switch (event.event_type) {
        case 'CHECKOUT.ORDER.APPROVED': {
          const paymentId = asArray(resource.purchase_units)[0]?.custom_id;
          return {
            id,
            type: 'order.approved',
            orderId: String(resource.id),
            ...(typeof paymentId === 'string' ? { paymentId } : {}),
          };
        }
        case 'PAYMENT.CAPTURE.COMPLETED':
        case 'PAYMENT.CAPTURE.DENIED': {
          const orderId = asObject(asObject(resource.supplementary_data).related_ids).order_id;
          return {
            id,
            type: event.event_type === 'PAYMENT.CAPTURE.COMPLETED' ? 'capture.completed' : 'capture.denied',
            captureId: String(resource.id),
            ...(typeof orderId === 'string' ? { orderId } : {}),
            ...(typeof resource.custom_id === 'string' ? { paymentId: resource.custom_id } : {}),
          };
        }
        case 'PAYMENT.CAPTURE.REFUNDED': {
          const up = linkOf(resource, 'up');
          return {
            id,
            type: 'capture.refunded',
            refundId: String(resource.id),
            ...(up ? { captureId: up.split('/').pop()! } : {}),
          };
        }
        default:
          return { id, type: 'ignored', providerType: event.event_type };
      }
    },

    isTransient,
    isOutage: (error) =>
      isTransient(error) &&
      (error as CheckoutError).details.issue !== 'PREVIOUS_REQUEST_IN_PROGRESS' &&
      (error as CheckoutError).details.status !== 409,
    close: () => pool.close(),
  };
}

import { formatMoney } from '../../lib/currencies';
import { parseAmount } from './amounts';
import { invalidRequest, resourceNotFound, unprocessable, type ErrorDetail } from './errors';
import { isoNow, newPayerId, newResourceId } from './ids';
import type { ApiAnswer, Made } from './idempotency';
import {
  captureJson,
  minimalOrderJson,
  orderJson,
  refundJson,
  type Funding,
  type PayPalEvent,
  type Store,
  type StoredCapture,
  type StoredOrder,
} from './store';

export interface OrdersContext {
  store: Store;
  /** Base URL for links, as the caller reached the emulator. */
  base: string;
  orderTtlMs: number;
  emit(
    type: string,
    resourceType: PayPalEvent['resource_type'],
    resource: Record<string, unknown>,
    summary: string,
  ): void;
}

type Body = Record<string, unknown>;
const isObject = (value: unknown): value is Body =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const missing = (field: string): ErrorDetail => ({
  field,
  issue: 'MISSING_REQUIRED_PARAMETER',
  description: 'A required field / parameter is missing.',
  location: 'body',
});
const invalid = (field: string, value: unknown, description = 'The value of a field is invalid.'): ErrorDetail => ({
  field,
  value: typeof value === 'string' ? value : JSON.stringify(value),
  issue: 'INVALID_PARAMETER_VALUE',
  description,
  location: 'body',
});

function optionalString(body: Body, key: string, field: string, max: number): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 1 || value.length > max) {
    throw invalidRequest({
      field,
      value: String(value),
      issue: 'INVALID_STRING_LENGTH',
      description: `The value of a field is either too short or too long (1 to ${max} characters).`,
      location: 'body',
    });
  }
  return value;
}

function absoluteUrl(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(String(value));
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
  } catch {
    // answered below
  }
  throw invalidRequest(invalid(field, value, 'The value of a field should be a valid URI.'));
}

/** Orders that nobody approved in time are gone: GET and capture answer 404, as PayPal does. */
export function isExpired(order: StoredOrder, now = Date.now()): boolean {
  if (
    !order.expired &&
    (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED') &&
    now >= order.expiresAt
  )
    order.expired = true;
  return order.expired;
}

export function liveOrder(ctx: OrdersContext, id: string, clientId?: string): StoredOrder {
  const order = ctx.store.orders.get(id);
  if (!order || (clientId !== undefined && order.clientId !== clientId) || isExpired(order)) throw resourceNotFound(id);
  return order;
}

const render = (order: StoredOrder, ctx: OrdersContext, representation: boolean) =>
  representation ? orderJson(order, ctx.store, ctx.base) : minimalOrderJson(order, ctx.store, ctx.base);

/** The latest state of what a write made, as the first answer rendered it: what a repeated PayPal-Request-Id answers. */
export function renderMade(ctx: OrdersContext, made: Made): ApiAnswer {
  if (made.kind === 'order')
    return { status: made.status, body: render(ctx.store.orders.get(made.id)!, ctx, made.representation) };
  const refund = ctx.store.refunds.get(made.id)!;
  const full = refundJson(refund, ctx.store.captures.get(refund.captureId), ctx.base);
  return {
    status: made.status,
    body: made.representation ? full : { id: full.id, status: full.status, links: full.links },
  };
}

/** `POST /v2/checkout/orders`: one purchase unit, intent CAPTURE, return URLs from either place PayPal takes them. */
export function createOrder(
  ctx: OrdersContext,
  clientId: string,
  body: Body,
  representation: boolean,
): { order: StoredOrder; made: Made } {
  if (body.intent === undefined) throw invalidRequest(missing('/intent'));
  if (body.intent !== 'CAPTURE')
    throw invalidRequest(
      invalid('/intent', body.intent, 'The emulator takes intent CAPTURE only (AUTHORIZE is not emulated).'),
    );
  const units = body.purchase_units;
  if (!Array.isArray(units) || units.length === 0) throw invalidRequest(missing('/purchase_units'));
  if (units.length > 1)
    throw invalidRequest(invalid('/purchase_units', units.length, 'The emulator takes one purchase unit.'));
  const unit = units[0];
  if (!isObject(unit)) throw invalidRequest(invalid('/purchase_units/0', unit));
  const referenceId = optionalString(unit, 'reference_id', '/purchase_units/0/reference_id', 256) ?? 'default';
  const at = `/purchase_units/@reference_id=='${referenceId}'`;
  const { money, minor } = parseAmount(unit.amount, `${at}/amount/value`, 400);
  const customId = optionalString(unit, 'custom_id', `${at}/custom_id`, 255);
  const invoiceId = optionalString(unit, 'invoice_id', `${at}/invoice_id`, 127);
  const description = optionalString(unit, 'description', `${at}/description`, 127);

  const experience =
    isObject(body.payment_source) &&
    isObject(body.payment_source.paypal) &&
    isObject(body.payment_source.paypal.experience_context)
      ? body.payment_source.paypal.experience_context
      : undefined;
  const legacy = isObject(body.application_context) ? body.application_context : undefined;
  const context = experience ?? legacy ?? {};
  const where = experience ? '/payment_source/paypal/experience_context' : '/application_context';
  const now = isoNow();
  const order: StoredOrder = {
    id: newResourceId(),
    clientId,
    status: experience ? 'PAYER_ACTION_REQUIRED' : 'CREATED',
    flow: experience ? 'payer-action' : 'approve',
    unit: {
      reference_id: referenceId,
      amount: money,
      ...(customId !== undefined ? { custom_id: customId } : {}),
      ...(invoiceId !== undefined ? { invoice_id: invoiceId } : {}),
      ...(description !== undefined ? { description } : {}),
    },
    minor,
    returnUrl: absoluteUrl(context.return_url, `${where}/return_url`),
    cancelUrl: absoluteUrl(context.cancel_url, `${where}/cancel_url`),
    brandName: typeof context.brand_name === 'string' ? context.brand_name : undefined,
    createTime: now,
    updateTime: now,
    expiresAt: Date.now() + ctx.orderTtlMs,
    expired: false,
  };
  ctx.store.orders.set(order.id, order);
  return { order, made: { kind: 'order', id: order.id, status: 201, representation } };
}

export const getOrder = (ctx: OrdersContext, clientId: string, id: string): ApiAnswer => ({
  status: 200,
  body: orderJson(liveOrder(ctx, id, clientId), ctx.store, ctx.base),
});

/** The payer approved on the checkout page: APPROVED, CHECKOUT.ORDER.APPROVED sent. */
export function approveOrder(ctx: OrdersContext, id: string, funding: Funding): StoredOrder {
  const order = liveOrder(ctx, id);
  if (order.status !== 'CREATED' && order.status !== 'PAYER_ACTION_REQUIRED')
    throw unprocessable('ORDER_ALREADY_APPROVED', 'The order has already been approved or completed.');
  const payerId = order.payer?.payer_id ?? newPayerId();
  order.payer = {
    payer_id: payerId,
    email_address: `buyer-${payerId.toLowerCase()}@personal.example.com`,
    name: { given_name: 'Test', surname: 'Buyer' },
  };
  order.status = 'APPROVED';
  order.funding = funding;
  order.updateTime = isoNow();
  ctx.emit(
    'CHECKOUT.ORDER.APPROVED',
    'checkout-order',
    orderJson(order, ctx.store, ctx.base),
    `An order has been approved by buyer`,
  );
  return order;
}

function captureEvent(ctx: OrdersContext, capture: StoredCapture): void {
  const amount = formatMoney(capture.minor, capture.currency);
  if (capture.status === 'COMPLETED')
    ctx.emit(
      'PAYMENT.CAPTURE.COMPLETED',
      'capture',
      captureJson(capture, ctx.base, true),
      `Payment completed for ${amount}`,
    );
  if (capture.status === 'DECLINED')
    ctx.emit('PAYMENT.CAPTURE.DENIED', 'capture', captureJson(capture, ctx.base, true), `Payment denied for ${amount}`);
}

/** `POST /v2/checkout/orders/{id}/capture`. */
export function captureOrder(
  ctx: OrdersContext,
  clientId: string,
  id: string,
  representation: boolean,
): { order: StoredOrder; made: Made } {
  const order = liveOrder(ctx, id, clientId);
  if (order.status === 'COMPLETED')
    throw unprocessable(
      'ORDER_ALREADY_CAPTURED',
      "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    );
  if (order.status !== 'APPROVED') {
    throw unprocessable(
      'ORDER_NOT_APPROVED',
      "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.",
    );
  }
  if (order.funding === 'declined') {
    // The payer must choose another way to pay: back to approval, as PayPal's restart flow does.
    order.status = order.flow === 'payer-action' ? 'PAYER_ACTION_REQUIRED' : 'CREATED';
    order.funding = undefined;
    order.expiresAt = Date.now() + ctx.orderTtlMs;
    order.updateTime = isoNow();
    throw unprocessable(
      'INSTRUMENT_DECLINED',
      "The instrument presented  was either declined by the processor or bank, or it can't be used for this payment.",
    );
  }
  const now = isoNow();
  const capture: StoredCapture = {
    id: newResourceId(),
    orderId: order.id,
    status: order.funding === 'pending' ? 'PENDING' : 'COMPLETED',
    ...(order.funding === 'pending' ? { statusReason: 'ECHECK' } : {}),
    currency: order.unit.amount.currency_code,
    minor: order.minor,
    refundedMinor: 0,
    customId: order.unit.custom_id,
    invoiceId: order.unit.invoice_id,
    createTime: now,
    updateTime: now,
    refundIds: [],
  };
  ctx.store.captures.set(capture.id, capture);
  order.captureId = capture.id;
  order.status = 'COMPLETED';
  order.updateTime = now;
  captureEvent(ctx, capture);
  return { order, made: { kind: 'order', id: order.id, status: 201, representation } };
}

function liveCapture(ctx: OrdersContext, id: string, clientId?: string): StoredCapture {
  const capture = ctx.store.captures.get(id);
  if (!capture || (clientId !== undefined && ctx.store.orders.get(capture.orderId)?.clientId !== clientId))
    throw resourceNotFound(id);
  return capture;
}

export const getCapture = (ctx: OrdersContext, clientId: string, id: string): ApiAnswer => ({
  status: 200,
  body: captureJson(liveCapture(ctx, id, clientId), ctx.base, true),
});

export function getRefund(ctx: OrdersContext, clientId: string, id: string): ApiAnswer {
  const refund = ctx.store.refunds.get(id);
  const capture = refund && liveCapture(ctx, refund.captureId, clientId);
  if (!refund || !capture) throw resourceNotFound(id);
  return { status: 200, body: refundJson(refund, capture, ctx.base) };
}

/** An admin's decision on a PENDING capture (the eCheck cleared, or not). */
export function settlePendingCapture(ctx: OrdersContext, id: string, outcome: 'COMPLETED' | 'DECLINED'): StoredCapture {
  const capture = liveCapture(ctx, id);
  if (capture.status !== 'PENDING')
    throw unprocessable('CAPTURE_NOT_PENDING', `The capture is ${capture.status}, not PENDING.`);
  capture.status = outcome;
  capture.statusReason = undefined;
  capture.updateTime = isoNow();
  captureEvent(ctx, capture);
  return capture;
}

/** `POST /v2/payments/captures/{id}/refund`: the rest of the capture without an amount, else that much. */
export function refundCapture(
  ctx: OrdersContext,
  clientId: string,
  id: string,
  body: Body,
  representation: boolean,
): Made {
  const capture = liveCapture(ctx, id, clientId);
  if (capture.status === 'REFUNDED')
    throw unprocessable('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully refunded');
  if (capture.status === 'PENDING')
    throw unprocessable(
      'PENDING_CAPTURE',
      'Cannot initiate a refund as the capture is pending. Capture is typically pending when the payer has funded the transaction by using an e-check or bank account.',
    );
  if (capture.status === 'DECLINED')
    throw unprocessable('CAPTURE_NOT_REFUNDABLE', 'The capture was declined and cannot be refunded.');
  const remaining = capture.minor - capture.refundedMinor;
  let minor = remaining;
  if (body.amount !== undefined) {
    const amount = parseAmount(body.amount, '/amount/value', 422);
    if (amount.money.currency_code !== capture.currency)
      throw unprocessable('REFUND_CAPTURE_CURRENCY_MISMATCH', 'Refund must be in the same currency as the capture.', {
        field: '/amount/currency_code',
        location: 'body',
      });
    if (amount.minor > remaining)
      throw unprocessable(
        'REFUND_AMOUNT_EXCEEDED',
        'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
        { field: '/amount/value', location: 'body' },
      );
    minor = amount.minor;
  }
  const refund = {
    id: newResourceId(),
    captureId: capture.id,
    currency: capture.currency,
    minor,
    noteToPayer: optionalString(body, 'note_to_payer', '/note_to_payer', 255),
    invoiceId: optionalString(body, 'invoice_id', '/invoice_id', 127),
    createTime: isoNow(),
  };
  ctx.store.refunds.set(refund.id, refund);
  capture.refundIds.push(refund.id);
  capture.refundedMinor += minor;
  capture.status = capture.refundedMinor >= capture.minor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  capture.updateTime = refund.createTime;
  ctx.emit(
    'PAYMENT.CAPTURE.REFUNDED',
    'refund',
    refundJson(refund, capture, ctx.base),
    `A ${formatMoney(minor, capture.currency)} capture payment was refunded`,
  );
  return { kind: 'refund', id: refund.id, status: 201, representation };
}

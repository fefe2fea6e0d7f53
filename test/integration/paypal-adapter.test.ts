import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  createPayPalEmulator,
  EMULATOR_CLIENT,
  EMULATOR_WEBHOOK_ID,
  type PayPalEmulator,
} from '../../emulators/paypal/server';
import { createLogger } from '../../lib/logger';
import { registry } from '../../lib/metrics';
import { createProviderPolicy } from '../../lib/resilience';
import {
  CheckoutError,
  type CheckoutGateway,
  type CheckoutRequest,
} from '../../subgraphs/payments/provider/checkout-gateway.port';
import { WebhookSignatureError } from '../../subgraphs/payments/provider/payment-gateway.port';
import { createPayPalAdapter, paypalRequestId } from '../../subgraphs/payments/provider/paypal.adapter';
import { eventually } from '../helpers/eventually';

/** Our PayPal adapter against the emulator: OAuth, idempotency, amounts, errors and logs. */

let emulator: PayPalEmulator;
let apiUrl: string;
let lines: string[] = [];
const adapters: Array<{ close(): Promise<void> }> = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }),
});

function adapter(options: { timeoutMs?: number; refreshBeforeMs?: number } = {}): CheckoutGateway {
  const created = createPayPalAdapter({
    clientId: EMULATOR_CLIENT.id,
    clientSecret: EMULATOR_CLIENT.secret,
    apiUrl,
    webhookId: EMULATOR_WEBHOOK_ID,
    logger,
    ...options,
  });
  adapters.push(created);
  return created;
}

/** The provider policy the payments service wraps every call in (retries with the same request id). */
const policyFor = (gateway: CheckoutGateway) =>
  createProviderPolicy({
    provider: 'paypal',
    isTransient: (e) => gateway.isTransient(e),
    isOutage: (e) => gateway.isOutage(e),
    logger,
    retries: 3,
    initialDelayMs: 5,
    maxDelayMs: 20,
    breakerThreshold: 50,
  });

let sequence = 0;
const checkout = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  paymentId: `00000000-0000-4000-8000-${String((sequence += 1)).padStart(12, '0')}`,
  amount: 1000,
  currency: 'USD',
  description: 'Posting fee for listing 42',
  returnUrl: 'http://127.0.0.1:4000/payments/paypal/return',
  cancelUrl: 'http://127.0.0.1:4000/payments/paypal/cancel',
  reference: 'listing-42',
  ...overrides,
});
const tokenRequests = () => emulator.state().tokens.tokenRequests;
const requestsTo = (pattern: RegExp) => emulator.state().requests.filter((r) => pattern.test(r.path));

beforeAll(async () => {
  emulator = createPayPalEmulator({ webhookRetryDelaysMs: [20] });
  apiUrl = await emulator.listen();
});
afterAll(async () => {
  await Promise.all(adapters.map((a) => a.close()));
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  emulator.setTokenLifetime(32_400);
  emulator.setWebhookUrl(undefined);
});

describe('OAuth 2.0 client credentials', () => {
  it('fifty calls started at once share one token request', async () => {
    const paypal = adapter();
    const sessions = await Promise.all(Array.from({ length: 50 }, () => paypal.createOrder(checkout(), 1)));
    expect(new Set(sessions.map((s) => s.orderId)).size).toBe(50);
    expect(tokenRequests()).toBe(1);
    await Promise.all(sessions.map((s) => paypal.getOrder(s.orderId)));
    expect(tokenRequests()).toBe(1);
  });

  it('replaces the token before it expires, mid-run, without a single 401', async () => {
    emulator.setTokenLifetime(2);
    const paypal = adapter();
    const { orderId } = await paypal.createOrder(checkout(), 1);
    // Reads keep going until the adapter has fetched a second token (proactively: 1 s before expiry).
    await eventually(
      async () => (await paypal.getOrder(orderId), tokenRequests()),
      (count) => count >= 2,
      5000,
    );
    expect(emulator.state().requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('a 401 for a token the adapter thought valid: one refresh, the call sent again and answered', async () => {
    const paypal = adapter();
    const { orderId } = await paypal.createOrder(checkout(), 1);
    emulator.expireTokens();
    const results = await Promise.all(Array.from({ length: 20 }, () => paypal.getOrder(orderId)));
    expect(results.every((order) => order.orderId === orderId)).toBe(true);
    expect(tokenRequests()).toBe(2);
    emulator.setFaults([{ kind: 'token_expired' }]);
    await paypal.getOrder(orderId);
    expect(tokenRequests()).toBe(3);
  });

  it('does not keep a failed token request: the token endpoint down is transient, and the next call gets a token', async () => {
    const paypal = adapter();
    emulator.setFaults([{ kind: 'token_unavailable' }]);
    const failure = await paypal.createOrder(checkout(), 1).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CheckoutError);
    expect([(failure as CheckoutError).kind, paypal.isTransient(failure), paypal.isOutage(failure)]).toEqual([
      'unavailable',
      true,
      true,
    ]);
    await expect(paypal.createOrder(checkout(), 1)).resolves.toMatchObject({ orderId: expect.any(String) });
    expect(tokenRequests()).toBe(2);
  });

  it('wrong credentials are an auth error, not retried', async () => {
    const wrong = createPayPalAdapter({
      clientId: EMULATOR_CLIENT.id,
      clientSecret: 'not-the-secret',
      apiUrl,
      webhookId: null,
      logger,
    });
    adapters.push(wrong);
    const failure = (await wrong.getOrder('X').catch((err: unknown) => err)) as CheckoutError;
    expect([failure.kind, failure.details.issue, wrong.isTransient(failure)]).toEqual([
      'auth',
      'invalid_client',
      false,
    ]);
  });
});

describe('exactly once', () => {
  it('retries reuse the PayPal-Request-Id derived from our payment id, and make one order', async () => {
    const paypal = adapter();
    const request = checkout();
    emulator.setFaults([{ kind: 'server_error', times: 2, path: '/v2/checkout/orders' }]);
    const session = await policyFor(paypal).execute((attempt) => paypal.createOrder(request, attempt));
    const creates = requestsTo(/^\/v2\/checkout\/orders$/);
    expect(creates.map((r) => [r.status, r.requestId])).toEqual([
      [500, paypalRequestId.createOrder(request.paymentId)],
      [500, paypalRequestId.createOrder(request.paymentId)],
      [201, paypalRequestId.createOrder(request.paymentId)],
    ]);
    expect(emulator.state().orders.map((o) => o.id)).toEqual([session.orderId]);
  });

  it('a capture whose answer was lost is answered by the retry, and captured once', async () => {
    const paypal = adapter({ timeoutMs: 1000 });
    const request = checkout();
    const { orderId } = await paypal.createOrder(request, 1);
    emulator.approve(orderId);
    emulator.setFaults([{ kind: 'drop_after_capture' }]);
    const outcome = await policyFor(paypal).execute((attempt) =>
      paypal.captureOrder(orderId, request.paymentId, attempt),
    );
    expect(outcome).toMatchObject({
      kind: 'captured',
      order: {
        status: 'completed',
        paymentId: request.paymentId,
        capture: { status: 'completed', amount: 1000, currency: 'USD' },
      },
    });
    const captures = requestsTo(/\/capture$/);
    expect(captures.map((r) => [r.status, r.replayed ?? false])).toEqual([
      ['dropped', false],
      [201, true],
    ]);
    expect(new Set(captures.map((r) => r.requestId))).toEqual(
      new Set([paypalRequestId.capture(request.paymentId, orderId)]),
    );
    expect(emulator.state().captures).toHaveLength(1);
  });

  it('capturing twice answers the same capture; before approval it says not_approved; a declined card says declined', async () => {
    const paypal = adapter();
    const request = checkout();
    const { orderId } = await paypal.createOrder(request, 1);
    expect(await paypal.captureOrder(orderId, request.paymentId, 1)).toEqual({ kind: 'not_approved', orderId });
    emulator.approve(orderId);
    const first = await paypal.captureOrder(orderId, request.paymentId, 1);
    const second = await paypal.captureOrder(orderId, request.paymentId, 1);
    expect(
      first.kind === 'captured' && second.kind === 'captured' && second.order.capture!.id === first.order.capture!.id,
    ).toBe(true);
    expect(emulator.state().captures).toHaveLength(1);

    const declined = checkout();
    const session = await paypal.createOrder(declined, 1);
    emulator.approve(session.orderId, 'declined');
    expect(await paypal.captureOrder(session.orderId, declined.paymentId, 1)).toMatchObject({
      kind: 'declined',
      code: 'INSTRUMENT_DECLINED',
    });
    expect((await paypal.getOrder(session.orderId)).approvalUrl).toBe(session.approvalUrl);
  });

  it('refunds part and then the rest with their own request ids; more than is left is a conflict', async () => {
    const paypal = adapter();
    const request = checkout({ amount: 2500 });
    const { orderId } = await paypal.createOrder(request, 1);
    emulator.approve(orderId);
    const captured = await paypal.captureOrder(orderId, request.paymentId, 1);
    const captureId = captured.kind === 'captured' ? captured.order.capture!.id : '';
    const part = await paypal.refundCapture(
      { paymentId: request.paymentId, refundId: 'r1', captureId, currency: 'USD', amount: 1000 },
      1,
    );
    expect(part).toMatchObject({ amount: 1000, status: 'succeeded' });
    expect(await paypal.getCapture(captureId)).toMatchObject({
      status: 'partially_refunded',
      amountRefunded: 1000,
      orderId,
      paymentId: request.paymentId,
    });
    const tooMuch = (await paypal
      .refundCapture({ paymentId: request.paymentId, refundId: 'r2', captureId, currency: 'USD', amount: 1501 }, 1)
      .catch((e: unknown) => e)) as CheckoutError;
    expect([tooMuch.kind, tooMuch.details.issue]).toEqual(['conflict', 'REFUND_AMOUNT_EXCEEDED']);
    const rest = await paypal.refundCapture(
      { paymentId: request.paymentId, refundId: 'r3', captureId, currency: 'USD' },
      1,
    );
    expect(rest.amount).toBe(1500);
    expect(await paypal.getCapture(captureId)).toMatchObject({ status: 'refunded', amountRefunded: 2500 });
    const again = await paypal.refundCapture(
      { paymentId: request.paymentId, refundId: 'r3', captureId, currency: 'USD' },
      2,
    );
    expect(again.reference).toBe(rest.reference);
  });
});

describe('amounts', () => {
  it('sends 0-decimal currencies without decimals and reads them back in minor units', async () => {
    const paypal = adapter();
    const yen = await paypal.createOrder(checkout({ amount: 1500, currency: 'JPY' }), 1);
    expect((emulator.state().orders.find((o) => o.id === yen.orderId)!.purchase_units as any)[0].amount).toEqual({
      currency_code: 'JPY',
      value: '1500',
    });
    expect(await paypal.getOrder(yen.orderId)).toMatchObject({ amount: 1500, currency: 'JPY' });
    // HUF: ISO minor units are fillér (2 digits); PayPal takes whole forints only.
    const forint = await paypal.createOrder(checkout({ amount: 150_000, currency: 'HUF' }), 1);
    expect((emulator.state().orders.find((o) => o.id === forint.orderId)!.purchase_units as any)[0].amount).toEqual({
      currency_code: 'HUF',
      value: '1500',
    });
    expect(await paypal.getOrder(forint.orderId)).toMatchObject({ amount: 150_000, currency: 'HUF' });
    const before = emulator.state().requests.length;
    const fraction = (await paypal
      .createOrder(checkout({ amount: 150_050, currency: 'HUF' }), 1)
      .catch((e: unknown) => e)) as CheckoutError;
    expect([fraction.kind, fraction.details.issue]).toEqual(['rejected', 'DECIMAL_PRECISION']);
    const unsupported = (await paypal
      .createOrder(checkout({ currency: 'ZAR' }), 1)
      .catch((e: unknown) => e)) as CheckoutError;
    expect([unsupported.kind, unsupported.details.issue]).toEqual(['rejected', 'CURRENCY_NOT_SUPPORTED']);
    expect(emulator.state().requests.length).toBe(before);
    expect(
      await paypal.createOrder(checkout({ amount: 1999 }), 1).then((s) => paypal.getOrder(s.orderId)),
    ).toMatchObject({ amount: 1999, currency: 'USD' });
  });
});

describe('webhooks', () => {
  it('verifies deliveries through verify-webhook-signature and narrows them; a changed body is refused', async () => {
    const deliveries: Array<{ raw: Buffer; headers: http.IncomingHttpHeaders }> = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on(
        'end',
        () => (deliveries.push({ raw: Buffer.concat(chunks), headers: req.headers }), res.writeHead(200).end()),
      );
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      emulator.setWebhookUrl(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/paypal`);
      const paypal = adapter();
      const request = checkout();
      const { orderId } = await paypal.createOrder(request, 1);
      emulator.approve(orderId);
      const captured = await paypal.captureOrder(orderId, request.paymentId, 1);
      const captureId = captured.kind === 'captured' ? captured.order.capture!.id : '';
      const refund = await paypal.refundCapture(
        { paymentId: request.paymentId, refundId: 'r', captureId, currency: 'USD' },
        1,
      );
      await emulator.flushWebhooks();
      const events = await Promise.all(deliveries.map((d) => paypal.verifyWebhook(d.raw, d.headers)));
      expect(events).toEqual([
        { id: expect.stringMatching(/^WH-/), type: 'order.approved', orderId, paymentId: request.paymentId },
        {
          id: expect.stringMatching(/^WH-/),
          type: 'capture.completed',
          captureId,
          orderId,
          paymentId: request.paymentId,
        },
        { id: expect.stringMatching(/^WH-/), type: 'capture.refunded', refundId: refund.reference, captureId },
      ]);
      const forged = Buffer.from(deliveries[1]!.raw.toString('utf8').replace('"10.00"', '"0.01"'));
      await expect(paypal.verifyWebhook(forged, deliveries[1]!.headers)).rejects.toBeInstanceOf(WebhookSignatureError);
      await expect(paypal.verifyWebhook(deliveries[1]!.raw, {})).rejects.toBeInstanceOf(WebhookSignatureError);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe('errors, logs and metrics', () => {
  it('maps an unknown order to not_found, a hang to a transient timeout, and 5xx/429 to unavailable', async () => {
    const paypal = adapter({ timeoutMs: 150 });
    const missing = (await paypal.getOrder('NOSUCHORDER12345').catch((e: unknown) => e)) as CheckoutError;
    expect([missing.kind, missing.details.status, missing.details.debugId]).toEqual([
      'not_found',
      404,
      expect.stringMatching(/^[0-9a-f]{13}$/),
    ]);
    emulator.setFaults([{ kind: 'hang', ms: 1000, path: '/v2/checkout/orders' }]);
    const slow = (await paypal.createOrder(checkout(), 1).catch((e: unknown) => e)) as CheckoutError;
    expect([slow.kind, paypal.isTransient(slow)]).toEqual(['unavailable', true]);
    emulator.setFaults([{ kind: 'rate_limit' }]);
    expect(paypal.isTransient(await paypal.createOrder(checkout(), 1).catch((e: unknown) => e))).toBe(true);
  });

  it('logs every call with debug id, request id, status, duration and attempt, and never a token or the secret', async () => {
    lines = [];
    const paypal = adapter();
    const request = checkout();
    emulator.setFaults([{ kind: 'token_expired', path: '/v2/checkout/orders' }]);
    const { orderId } = await paypal.createOrder(request, 1);
    emulator.approve(orderId);
    await paypal.captureOrder(orderId, request.paymentId, 2);
    const calls = lines.map((line) => JSON.parse(line)).filter((entry) => entry.provider === 'paypal');
    expect(calls.map((c) => [c.method, c.path, c.status, c.attempt, c.tokenRefreshed ?? false])).toEqual([
      ['POST', '/v1/oauth2/token', 200, 1, false],
      ['POST', '/v2/checkout/orders', 401, 1, false],
      ['POST', '/v1/oauth2/token', 200, 1, false],
      ['POST', '/v2/checkout/orders', 201, 1, true],
      ['POST', `/v2/checkout/orders/${orderId}/capture`, 201, 2, false],
    ]);
    for (const c of calls) {
      expect(c.paypalDebugId).toMatch(/^[0-9a-f]{13}$/);
      expect(typeof c.durationMs).toBe('number');
    }
    expect(calls[3].paypalRequestId).toBe(paypalRequestId.createOrder(request.paymentId));
    const text = lines.join('\n');
    expect(text).not.toContain(EMULATOR_CLIENT.secret);
    expect(text).not.toMatch(/A21AA|Bearer|Basic /);
    const metrics = await registry.getSingleMetricAsString('provider_requests_total');
    expect(metrics).toMatch(
      /provider_requests_total\{provider="paypal",operation="POST \/v2\/checkout\/orders\/\{id\}\/capture",status_class="2xx",attempt="2"\} [1-9]/,
    );
  });
});

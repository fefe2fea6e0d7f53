import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { parseForm } from '../../emulators/stripe/form';
import { createStripeEmulator, type StripeEmulator } from '../../emulators/stripe/server';

/**
 * The real stripe SDK against the emulator: what the SDK sees (errors, classes, headers, retries)
 * must be what it would see from Stripe.
 */

const WEBHOOK_SECRET = 'whsec_emulator_test';
const API_KEY = 'sk_test_emulator';

let emulator: StripeEmulator;
let baseUrl: string;
let port: number;

/** The webhook endpoint the emulator posts to: keeps every raw body and answers per `answer`. */
interface Received {
  raw: string;
  signature: string;
}
let receiver: http.Server;
let receiverUrl: string;
let received: Received[] = [];
let answer: (attempt: number) => number = () => 200;

const client = (options: Partial<Stripe.StripeConfig> = {}) =>
  new Stripe(API_KEY, {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: 0,
    timeout: 2000,
    ...options,
  });

/** A server-side card payment the way our adapter makes one. */
const payment = (
  paymentMethod: string,
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Stripe.PaymentIntentCreateParams => ({
  amount: 1500,
  currency: 'usd',
  payment_method: paymentMethod,
  confirm: true,
  automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
  description: 'Listing fee',
  metadata: { listing_id: 'lst_42', payment_id: 'pay_7' },
  ...extra,
});

async function rejection<T extends Error = Stripe.errors.StripeError>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (err) {
    return err as T;
  }
  throw new Error('expected the promise to reject');
}

/** Polls a condition the emulator reaches on its own (work after a hang); fails after 3 s. */
async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const apiRequests = (path = '/v1/payment_intents') => emulator.requests().filter((request) => request.path === path);

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  emulator = createStripeEmulator({ webhookSecret: WEBHOOK_SECRET, webhookRetryDelaysMs: [50, 100] });
  baseUrl = await emulator.listen();
  port = Number(new URL(baseUrl).port);
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        raw: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['stripe-signature']),
      });
      res.writeHead(answer(received.length)).end();
    });
  });
  receiverUrl = `${await listen(receiver)}/webhooks/stripe`;
});

beforeEach(() => {
  emulator.reset();
  emulator.setWebhookUrl(undefined);
  received = [];
  answer = () => 200;
});

afterAll(async () => {
  await emulator.close();
  await new Promise<void>((resolve) => {
    receiver.close(() => resolve());
    receiver.closeAllConnections();
  });
});

describe('form bodies', () => {
  it('parses bracketed keys into objects and lists', () => {
    expect(
      parseForm(
        'amount=1500&metadata[listing_id]=lst%5B1%5D&metadata%5Bnote%5D=a+b&expand[0]=latest_charge&expand[1]=payment_method&tags[]=x&tags[]=y',
      ),
    ).toEqual({
      amount: '1500',
      metadata: { listing_id: 'lst[1]', note: 'a b' },
      expand: { '0': 'latest_charge', '1': 'payment_method' },
      tags: ['x', 'y'],
    });
  });
});

describe('payment intents', () => {
  it('charges a test card, keeps the metadata and returns the same object by id', async () => {
    const stripe = client();
    const intent = await stripe.paymentIntents.create(payment('pm_card_visa'));
    expect(intent).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      amount: 1500,
      amount_received: 1500,
      currency: 'usd',
      description: 'Listing fee',
      metadata: { listing_id: 'lst_42', payment_id: 'pay_7' },
      livemode: false,
    });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.client_secret).toMatch(new RegExp(`^${intent.id}_secret_`));
    expect(intent.latest_charge).toMatch(/^ch_/);
    expect(intent.payment_method).toMatch(/^pm_/);
    expect(intent.lastResponse.requestId).toMatch(/^req_/);

    const fetched = await stripe.paymentIntents.retrieve(intent.id);
    expect({ ...fetched }).toEqual({ ...intent });

    const expanded = await stripe.paymentIntents.retrieve(intent.id, { expand: ['latest_charge'] });
    const charge = expanded.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({
      id: intent.latest_charge,
      amount: 1500,
      amount_refunded: 0,
      paid: true,
      status: 'succeeded',
      payment_intent: intent.id,
    });
    expect(charge.payment_method_details?.card).toMatchObject({ brand: 'visa', last4: '4242' });

    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.events().map((event) => event.type)).toEqual(['payment_intent.succeeded']);
  });

  it.each([
    ['pm_card_mastercard', 'mastercard', '4444'],
    ['pm_card_amex', 'amex', '8431'],
    ['pm_card_visa_debit', 'visa', '5556'],
  ])('charges %s', async (paymentMethod, brand, last4) => {
    const intent = await client().paymentIntents.create(payment(paymentMethod), {});
    expect(intent.status).toBe('succeeded');
    const method = await client().paymentIntents.retrieve(intent.id, { expand: ['payment_method'] });
    expect((method.payment_method as Stripe.PaymentMethod).card).toMatchObject({ brand, last4 });
  });

  it('leaves an unconfirmed intent waiting for confirmation or a payment method', async () => {
    const stripe = client();
    const withMethod = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'EUR',
      payment_method: 'pm_card_visa',
      allowed_payment_method_types: ['card'],
    });
    expect(withMethod).toMatchObject({ status: 'requires_confirmation', currency: 'eur', latest_charge: null });
    const without = await stripe.paymentIntents.create({ amount: 900, currency: 'eur' });
    expect(without.status).toBe('requires_payment_method');

    const confirmed = await stripe.paymentIntents.confirm(withMethod.id);
    expect(confirmed.status).toBe('succeeded');
    const cancelled = await stripe.paymentIntents.cancel(without.id);
    expect(cancelled.status).toBe('canceled');
  });

  it('lists intents newest first', async () => {
    const stripe = client();
    const older = await stripe.paymentIntents.create(payment('pm_card_visa'));
    const newer = await stripe.paymentIntents.create(payment('pm_card_visa'));
    const page = await stripe.paymentIntents.list({ limit: 1 });
    expect(page.data.map((intent) => intent.id)).toEqual([newer.id]);
    expect(page.has_more).toBe(true);
    const next = await stripe.paymentIntents.list({ limit: 1, starting_after: newer.id });
    expect(next.data.map((intent) => intent.id)).toEqual([older.id]);
  });

  it('asks for a return_url when redirect-based payment methods are allowed, as Stripe does since 2023-08-16', async () => {
    const err = await rejection(
      client().paymentIntents.create({ ...payment('pm_card_visa'), automatic_payment_methods: undefined }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.message).toMatch(/you must provide a `return_url`/);
  });

  it.each([
    ['pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline', 'Your card was declined.'],
    [
      'pm_card_visa_chargeDeclinedInsufficientFunds',
      'card_declined',
      'insufficient_funds',
      'Your card has insufficient funds.',
    ],
    ['pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card', 'Your card was declined.'],
    ['pm_card_visa_chargeDeclinedStolenCard', 'card_declined', 'stolen_card', 'Your card was declined.'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card', 'Your card has expired.'],
    [
      'pm_card_chargeDeclinedProcessingError',
      'processing_error',
      'processing_error',
      'An error occurred while processing your card. Try again in a little bit.',
    ],
  ])('declines %s with a StripeCardError', async (paymentMethod, code, declineCode, message) => {
    const stripe = client();
    const err = await rejection<Stripe.errors.StripeCardError>(stripe.paymentIntents.create(payment(paymentMethod)));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({
      statusCode: 402,
      type: 'StripeCardError',
      rawType: 'card_error',
      code,
      decline_code: declineCode,
      message,
    });
    expect(err.requestId).toMatch(/^req_/);
    const raw = err.raw as { payment_intent: Stripe.PaymentIntent; charge: string; request_log_url: string };
    expect(raw.payment_intent).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code, decline_code: declineCode, message },
    });
    expect(raw.charge).toMatch(/^ch_/);
    expect(raw.request_log_url).toContain(err.requestId);

    const stored = await stripe.paymentIntents.retrieve(raw.payment_intent.id);
    expect(stored.status).toBe('requires_payment_method');
    expect(stored.last_payment_error?.decline_code).toBe(declineCode);
    expect(emulator.events().map((event) => event.type)).toEqual(['payment_intent.payment_failed']);
  });

  it('needs 3-D Secure for authentication cards, then succeeds once the customer completes it', async () => {
    const stripe = client();
    const intent = await stripe.paymentIntents.create(payment('pm_card_authenticationRequired'));
    expect(intent.status).toBe('requires_action');
    expect(intent.next_action?.type).toBe('use_stripe_sdk');
    expect(intent.client_secret).toMatch(/_secret_/);
    expect(emulator.events()).toHaveLength(0);

    const completed = emulator.completeAction(intent.id);
    expect(completed.status).toBe('succeeded');
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('succeeded');
    const [event] = emulator.events();
    expect(event).toMatchObject({
      type: 'payment_intent.succeeded',
      data: { object: { id: intent.id, status: 'succeeded' } },
      request: { id: null },
    });
  });

  it('fails the payment when 3-D Secure fails (through the admin endpoint)', async () => {
    const intent = await client().paymentIntents.create(payment('pm_card_threeDSecure2Required'));
    expect(intent.status).toBe('requires_action');
    const response = await fetch(`${baseUrl}/__emulator/payment_intents/${intent.id}/complete_action`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'failed' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Stripe.PaymentIntent;
    expect(body.status).toBe('requires_payment_method');
    expect(body.last_payment_error?.code).toBe('payment_intent_authentication_failure');
    expect(emulator.events().map((event) => event.type)).toEqual(['payment_intent.payment_failed']);
    expect(() => emulator.completeAction(intent.id)).toThrow(/requires_action/);
  });

  it('with a return_url, sends the customer to a 3-D Secure page and back', async () => {
    const intent = await client().paymentIntents.create(
      payment('pm_card_authenticationRequired', { return_url: 'https://shop.example/done' }),
    );
    expect(intent.next_action?.type).toBe('redirect_to_url');
    const page = await fetch(intent.next_action?.redirect_to_url?.url as string);
    expect(await page.text()).toContain('Complete authentication');
    // The emulator's own page links to it while the payment waits.
    const listed = await (await fetch(`${baseUrl}/__emulator`)).text();
    expect(listed).toContain(`<a href="/__emulator/payment_intents/${intent.id}/authenticate">${intent.id}</a>`);
    const back = await fetch(
      `${baseUrl}/__emulator/payment_intents/${intent.id}/complete_action?return_url=${encodeURIComponent('https://shop.example/done')}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=succeeded',
        redirect: 'manual',
      },
    );
    expect(back.status).toBe(303);
    const location = new URL(back.headers.get('location') as string);
    expect(location.origin + location.pathname).toBe('https://shop.example/done');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      payment_intent: intent.id,
      redirect_status: 'succeeded',
    });
    expect(emulator.paymentIntents()[0].status).toBe('succeeded');
  });

  it('declines off-session payments that would need authentication', async () => {
    const err = await rejection(
      client().paymentIntents.create(payment('pm_card_authenticationRequired', { off_session: true })),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.code).toBe('authentication_required');
  });
});

describe('validation errors', () => {
  it.each([
    ['missing amount', { amount: undefined }, 'parameter_missing', 'amount'],
    ['missing currency', { currency: undefined }, 'parameter_missing', 'currency'],
    ['fractional amount', { amount: 12.5 }, 'parameter_invalid_integer', 'amount'],
    ['negative amount', { amount: -100 }, 'parameter_invalid_integer', 'amount'],
    ['amount below the minimum', { amount: 20 }, 'amount_too_small', 'amount'],
    ['unknown currency', { currency: 'xyz' }, undefined, 'currency'],
    ['unknown payment method', { payment_method: 'pm_does_not_exist' }, 'resource_missing', 'payment_method'],
    ['misspelt test payment method', { payment_method: 'pm_card_visa_declined' }, 'resource_missing', 'payment_method'],
    ['unknown parameter', { colour: 'red' }, 'parameter_unknown', 'colour'],
  ])('refuses a %s with a StripeInvalidRequestError', async (_name, change, code, param) => {
    const params = { ...payment('pm_card_visa'), ...change } as Stripe.PaymentIntentCreateParams;
    const err = await rejection<Stripe.errors.StripeInvalidRequestError>(client().paymentIntents.create(params));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error', param });
    expect(err.code).toBe(code);
    expect(emulator.paymentIntents()).toHaveLength(0);
  });

  it('answers 404 resource_missing for an unknown intent and for an unknown URL', async () => {
    const err = await rejection(client().paymentIntents.retrieve('pi_missing'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      message: "No such payment_intent: 'pi_missing'",
    });

    const response = await fetch(`${baseUrl}/v1/customers`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(response.status).toBe(404);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(await response.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('Unrecognized request URL (GET: /v1/customers)'),
      },
    });
  });

  it('refuses a bad API key with a StripeAuthenticationError that masks the key', async () => {
    const stripe = new Stripe('sk_live_1234567890abcdef', {
      host: '127.0.0.1',
      port,
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });
    const err = await rejection(stripe.paymentIntents.create(payment('pm_card_visa')));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).toBe('Invalid API Key provided: sk_live_************cdef');

    const anonymous = await fetch(`${baseUrl}/v1/payment_intents`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { message: string } }).error.message).toMatch(
      /^You did not provide an API key/,
    );
  });
});

describe('idempotency', () => {
  it('replays the first answer for the same key without charging again', async () => {
    const stripe = client();
    const first = await stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-1' });
    const second = await stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-1' });
    expect(second.id).toBe(first.id);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(second.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.events()).toHaveLength(1);
    expect(emulator.events()[0].request).toEqual({ id: first.lastResponse.requestId, idempotency_key: 'order-1' });
  });

  it('replays a decline too', async () => {
    const stripe = client();
    const first = await rejection(
      stripe.paymentIntents.create(payment('pm_card_visa_chargeDeclined'), { idempotencyKey: 'order-2' }),
    );
    const second = await rejection(
      stripe.paymentIntents.create(payment('pm_card_visa_chargeDeclined'), { idempotencyKey: 'order-2' }),
    );
    expect(second).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect((second.raw as { payment_intent: { id: string } }).payment_intent.id).toBe(
      (first.raw as { payment_intent: { id: string } }).payment_intent.id,
    );
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.events()).toHaveLength(1);
  });

  it('does not keep a validation error, so the key can be used again with fixed parameters', async () => {
    const stripe = client();
    await rejection(
      stripe.paymentIntents.create(payment('pm_card_visa', { amount: 10 }), { idempotencyKey: 'order-3' }),
    );
    const intent = await stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-3' });
    expect(intent.status).toBe('succeeded');
  });

  it('refuses the same key with other parameters as a StripeIdempotencyError', async () => {
    const stripe = client();
    await stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-4' });
    const err = await rejection(
      stripe.paymentIntents.create(payment('pm_card_visa', { amount: 2500 }), { idempotencyKey: 'order-4' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    expect(err.message).toMatch(
      /^Keys for idempotent requests can only be used with the same parameters they were first used with\. Try using a key other than 'order-4'/,
    );
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('answers 409 to a second request while the first with that key is still in flight', async () => {
    const stripe = client();
    emulator.setFaults([{ kind: 'hang', ms: 400 }]);
    const first = stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-5' });
    // The hang is used up once the first request holds the key and starts waiting.
    await eventually(
      async () =>
        ((await (await fetch(`${baseUrl}/__emulator/state`)).json()) as { faults: unknown[] }).faults.length === 0,
    );
    const err = await rejection(stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-5' }));
    // The SDK maps 409 to StripeAPIError (and would retry it with maxNetworkRetries > 0).
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: 409, rawType: 'idempotency_error', code: 'idempotency_key_in_use' });
    const intent = await first;
    expect(intent.status).toBe('succeeded');
    const replay = await stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-5' });
    expect(replay.id).toBe(intent.id);
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('refuses keys longer than 255 characters', async () => {
    const err = await rejection(
      client().paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'k'.repeat(256) }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(emulator.paymentIntents()).toHaveLength(0);
  });
});

describe('faults and the SDK', () => {
  it('the SDK retries a 500 with the same idempotency key', async () => {
    emulator.setFaults([{ kind: 'server_error', times: 1 }]);
    const intent = await client({ maxNetworkRetries: 2 }).paymentIntents.create(payment('pm_card_visa'));
    expect(intent.status).toBe('succeeded');
    const requests = apiRequests();
    expect(requests.map((request) => request.status)).toEqual([500, 200]);
    expect(requests[0].idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(requests[1].idempotencyKey).toBe(requests[0].idempotencyKey);
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('the SDK retries a 429 that carries Stripe-Should-Retry: true', async () => {
    emulator.setFaults([{ kind: 'rate_limit', shouldRetry: true }]);
    const intent = await client({ maxNetworkRetries: 2 }).paymentIntents.create(payment('pm_card_visa'));
    expect(intent.status).toBe('succeeded');
    expect(apiRequests().map((request) => request.status)).toEqual([429, 200]);
  });

  it('the SDK does not retry a plain 429', async () => {
    emulator.setFaults([{ kind: 'rate_limit', times: 3 }]);
    const err = await rejection(client({ maxNetworkRetries: 2 }).paymentIntents.create(payment('pm_card_visa')));
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err).toMatchObject({ statusCode: 429, rawType: 'rate_limit_error' });
    expect(err.message).toMatch(/^Too many requests hit the API too quickly/);
    expect(apiRequests().map((request) => request.status)).toEqual([429]);
  });

  it('applies a fault only to its path, and a 503 surfaces as StripeAPIError', async () => {
    const stripe = client();
    emulator.setFaults([{ kind: 'server_error', status: 503, path: '/v1/refunds' }]);
    const intent = await stripe.paymentIntents.create(payment('pm_card_visa'));
    const err = await rejection(stripe.refunds.create({ payment_intent: intent.id }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: 503, rawType: 'api_error' });
    expect(emulator.refunds()).toHaveLength(0);
  });

  it('hang: the SDK gives up, the work still happens, and a retry with the same key gets the saved answer', async () => {
    emulator.setFaults([{ kind: 'hang', ms: 500 }]);
    const err = await rejection(
      client({ timeout: 100 }).paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-hang' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(err.message).toMatch(/timeout/);
    await eventually(() => emulator.paymentIntents().length === 1);
    const retried = await client().paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-hang' });
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(retried.id).toBe(emulator.paymentIntents()[0].id);
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('drop_after_charge: the charge happens, the connection drops, and the same key returns the saved success', async () => {
    emulator.setFaults([{ kind: 'drop_after_charge' }]);
    // The SDK retries a reset connection once even with maxNetworkRetries: 0, reusing its key.
    const intent = await client().paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'order-drop' });
    expect(intent.status).toBe('succeeded');
    expect(intent.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(apiRequests().map((request) => request.status)).toEqual(['dropped', 200]);
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.events()).toHaveLength(1);
  });

  it('drop_after_charge as a plain client sees it: no answer at all', async () => {
    emulator.setFaults([{ kind: 'drop_after_charge' }]);
    const body =
      'amount=1500&currency=usd&payment_method=pm_card_visa&confirm=true&allowed_payment_method_types[0]=card';
    const send = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(`${baseUrl}/v1/payment_intents`, {
          method: 'POST',
          agent: false,
          headers: {
            authorization: `Bearer ${API_KEY}`,
            'content-type': 'application/x-www-form-urlencoded',
            'idempotency-key': 'raw-drop',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    await expect(send()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(emulator.paymentIntents()).toHaveLength(1);
    await expect(send()).resolves.toBe(200);
    expect(emulator.paymentIntents()).toHaveLength(1);
  });
});

describe('refunds', () => {
  it('refunds part, then the rest, then refuses more', async () => {
    const stripe = client();
    const intent = await stripe.paymentIntents.create(payment('pm_card_visa', { amount: 5000 }));

    const partial = await stripe.refunds.create({
      payment_intent: intent.id,
      amount: 2000,
      reason: 'requested_by_customer',
    });
    expect(partial).toMatchObject({
      object: 'refund',
      amount: 2000,
      status: 'succeeded',
      payment_intent: intent.id,
      charge: intent.latest_charge,
      reason: 'requested_by_customer',
    });
    expect(partial.id).toMatch(/^re_/);

    const over = await rejection(stripe.refunds.create({ payment_intent: intent.id, amount: 4000 }));
    expect(over).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(over).toMatchObject({
      param: 'amount',
      message: 'Refund amount ($40.00) is greater than unrefunded amount on charge ($30.00)',
    });

    const rest = await stripe.refunds.create({ payment_intent: intent.id });
    expect(rest.amount).toBe(3000);
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 5000, refunded: true });
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('succeeded');

    const again = await rejection(stripe.refunds.create({ payment_intent: intent.id }));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again).toMatchObject({
      code: 'charge_already_refunded',
      message: `Charge ${intent.latest_charge} has already been refunded.`,
    });

    expect((await stripe.refunds.retrieve(partial.id)).amount).toBe(2000);
    const refundEvents = emulator.events().filter((event) => event.type === 'charge.refunded');
    expect(refundEvents.map((event) => event.data.object)).toMatchObject([
      { object: 'charge', amount_refunded: 2000, refunded: false, payment_intent: intent.id },
      { object: 'charge', amount_refunded: 5000, refunded: true, payment_intent: intent.id },
    ]);
    expect(emulator.refunds()).toHaveLength(2);
  });

  it('refuses a refund of a payment that did not succeed, or of an unknown one', async () => {
    const stripe = client();
    const declined = await rejection(stripe.paymentIntents.create(payment('pm_card_visa_chargeDeclined')));
    const intentId = (declined.raw as { payment_intent: { id: string } }).payment_intent.id;
    const err = await rejection(stripe.refunds.create({ payment_intent: intentId }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.message).toBe(`This PaymentIntent (${intentId}) does not have a successful charge to refund.`);

    const missing = await rejection(stripe.refunds.create({ payment_intent: 'pi_nope' }));
    expect(missing).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'payment_intent' });
    const unknownRefund = await rejection(stripe.refunds.retrieve('re_nope'));
    expect(unknownRefund).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});

describe('events', () => {
  it('serves events by id and as a list, newest first', async () => {
    const stripe = client();
    const first = await stripe.paymentIntents.create(payment('pm_card_visa'));
    const second = await stripe.paymentIntents.create(payment('pm_card_mastercard'));
    const [older, newer] = emulator.events();

    const event = await stripe.events.retrieve(older.id);
    expect(event).toMatchObject({
      id: older.id,
      object: 'event',
      type: 'payment_intent.succeeded',
      livemode: false,
      data: { object: { id: first.id } },
    });
    expect(event.api_version).toBeTruthy();

    const list = await stripe.events.list({ limit: 1 });
    expect(list.data.map((item) => item.id)).toEqual([newer.id]);
    expect(list.has_more).toBe(true);
    expect((list.data[0].data.object as Stripe.PaymentIntent).id).toBe(second.id);
    const all = await stripe.events.list({ type: 'payment_intent.*' });
    expect(all.data.map((item) => item.id)).toEqual([newer.id, older.id]);

    const err = await rejection(stripe.events.retrieve('evt_missing'));
    expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});

describe('webhooks', () => {
  const verified = (stripe: Stripe) =>
    received.map(({ raw, signature }) => stripe.webhooks.constructEvent(raw, signature, WEBHOOK_SECRET));

  it('posts each event signed so that stripe.webhooks.constructEvent accepts it', async () => {
    const stripe = client();
    emulator.setWebhookUrl(receiverUrl);
    const intent = await stripe.paymentIntents.create(payment('pm_card_visa'));
    await emulator.flushWebhooks();

    const [event] = verified(stripe);
    expect(event).toMatchObject({
      type: 'payment_intent.succeeded',
      data: { object: { id: intent.id, status: 'succeeded' } },
      pending_webhooks: 1,
    });
    expect(event.id).toBe(emulator.events()[0].id);
    expect(emulator.events()[0].pending_webhooks).toBe(0);
    expect(emulator.deliveries()).toMatchObject([
      { eventId: event.id, type: 'payment_intent.succeeded', attempt: 1, status: 200 },
    ]);
    expect(() => stripe.webhooks.constructEvent(received[0].raw, received[0].signature, 'whsec_other')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('retries a delivery the endpoint refuses', async () => {
    const stripe = client();
    emulator.setWebhookUrl(receiverUrl);
    answer = (attempt) => (attempt < 3 ? 500 : 200);
    await stripe.paymentIntents.create(payment('pm_card_visa'));
    await emulator.flushWebhooks();
    expect(emulator.deliveries().map(({ attempt, status }) => ({ attempt, status }))).toEqual([
      { attempt: 1, status: 500 },
      { attempt: 2, status: 500 },
      { attempt: 3, status: 200 },
    ]);
    expect(new Set(verified(stripe).map((event) => event.id)).size).toBe(1);
  });

  it('gives up once the retry delays are used up, and records unreachable endpoints', async () => {
    const stripe = client();
    emulator.setWebhookUrl(receiverUrl);
    answer = () => 503;
    await stripe.paymentIntents.create(payment('pm_card_visa'));
    await emulator.flushWebhooks();
    expect(emulator.deliveries().map((delivery) => delivery.status)).toEqual([503, 503, 503]);
    expect(emulator.events()[0].pending_webhooks).toBe(1);

    const closed = http.createServer();
    const closedUrl = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    emulator.reset();
    emulator.setWebhookUrl(closedUrl);
    await stripe.paymentIntents.create(payment('pm_card_visa'));
    await emulator.flushWebhooks();
    expect(emulator.deliveries().map((delivery) => delivery.status)).toEqual(['error', 'error', 'error']);
  });

  it('webhook_duplicate delivers the same event twice', async () => {
    const stripe = client();
    emulator.setWebhookUrl(receiverUrl);
    emulator.setFaults([{ kind: 'webhook_duplicate' }]);
    await stripe.paymentIntents.create(payment('pm_card_visa'));
    await stripe.paymentIntents.create(payment('pm_card_visa'));
    await emulator.flushWebhooks();
    const ids = verified(stripe).map((event) => event.id);
    const [first, second] = emulator.events();
    expect(ids).toEqual([first.id, first.id, second.id]);
  });

  it('webhook_out_of_order delivers a batch newest first', async () => {
    const stripe = client();
    emulator.setWebhookUrl(receiverUrl);
    emulator.setFaults([{ kind: 'webhook_out_of_order', times: 2 }]);
    const intent = await stripe.paymentIntents.create(payment('pm_card_visa'));
    await stripe.refunds.create({ payment_intent: intent.id });
    await emulator.flushWebhooks();
    expect(verified(stripe).map((event) => event.type)).toEqual(['charge.refunded', 'payment_intent.succeeded']);
  });

  it('flushWebhooks releases a batch that is not full yet', async () => {
    const stripe = client();
    emulator.setWebhookUrl(receiverUrl);
    emulator.setFaults([{ kind: 'webhook_out_of_order', times: 5 }]);
    await stripe.paymentIntents.create(payment('pm_card_visa'));
    await stripe.paymentIntents.create(payment('pm_card_amex'));
    expect(received).toHaveLength(0);
    await emulator.flushWebhooks();
    const [first, second] = emulator.events();
    expect(verified(stripe).map((event) => event.id)).toEqual([second.id, first.id]);
  });
});

describe('admin endpoints', () => {
  it('serves the state as JSON and as an escaped HTML page', async () => {
    await client().paymentIntents.create(payment('pm_card_visa', { description: '<script>alert(1)</script>' }));
    const state = (await (await fetch(`${baseUrl}/__emulator/state`)).json()) as {
      paymentIntents: Array<{ id: string }>;
      requests: unknown[];
      events: unknown[];
    };
    expect(state.paymentIntents).toHaveLength(1);
    expect(state.requests).toHaveLength(1);
    expect(state.events).toHaveLength(1);

    const page = await fetch(`${baseUrl}/__emulator`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(state.paymentIntents[0].id);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('sets, clears and validates faults, and resets, over HTTP', async () => {
    const post = (path: string, body?: unknown) =>
      fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await post('/__emulator/faults', { faults: [{ kind: 'rate_limit', times: 2 }] })).status).toBe(200);
    const err = await rejection(client().paymentIntents.create(payment('pm_card_visa')));
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((await fetch(`${baseUrl}/__emulator/faults`, { method: 'DELETE' })).status).toBe(200);
    await client().paymentIntents.create(payment('pm_card_visa'));

    const invalid = await post('/__emulator/faults', { faults: [{ kind: 'explode' }] });
    expect(invalid.status).toBe(400);

    expect((await post('/__emulator/reset')).status).toBe(200);
    expect(emulator.paymentIntents()).toHaveLength(0);
    expect(emulator.requests()).toHaveLength(0);
  });
});

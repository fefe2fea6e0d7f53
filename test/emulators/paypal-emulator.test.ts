import { createVerify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { signedString } from '../../emulators/paypal/webhooks';
import {
  createPayPalEmulator,
  EMULATOR_CLIENT,
  EMULATOR_WEBHOOK_ID,
  type PayPalEmulator,
} from '../../emulators/paypal/server';

/**
 * The emulator on the wire, through a plain HTTP client: what a PayPal client sees (statuses, error
 * bodies, headers, idempotency, webhooks) must be what PayPal documents. The adapter's own test
 * (test/integration/paypal-adapter.test.ts) drives it through our client.
 */

let emulator: PayPalEmulator;
let base: string;
let receiver: http.Server;
let receiverUrl: string;
let received: Array<{ raw: string; headers: http.IncomingHttpHeaders }> = [];

type Json = Record<string, any>;
const basic = (id = EMULATOR_CLIENT.id, secret = EMULATOR_CLIENT.secret) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { token?: string; json?: unknown; form?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
) {
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  let body: string | undefined;
  if (options.json !== undefined)
    (headers['content-type'] = 'application/json'),
      (body = typeof options.json === 'string' ? options.json : JSON.stringify(options.json));
  if (options.form !== undefined)
    (headers['content-type'] = 'application/x-www-form-urlencoded'), (body = options.form);
  const res = await request(`${base}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: (text && res.headers['content-type']?.toString().includes('json') ? JSON.parse(text) : {}) as Json,
  };
}

async function token(): Promise<string> {
  const res = await call('POST', '/v1/oauth2/token', {
    headers: { authorization: basic() },
    form: 'grant_type=client_credentials',
  });
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

const usd = (value: string) => ({ currency_code: 'USD', value });
const orderBody = (amount: Json = usd('10.00'), extra: Json = {}) => ({
  intent: 'CAPTURE',
  purchase_units: [{ reference_id: 'listing-1', custom_id: 'payment-1', amount }],
  payment_source: {
    paypal: {
      experience_context: { return_url: 'http://127.0.0.1:9/return', cancel_url: 'http://127.0.0.1:9/cancel' },
    },
  },
  ...extra,
});

async function createOrder(accessToken: string, body: Json = orderBody(), requestId?: string) {
  return call('POST', '/v2/checkout/orders', {
    token: accessToken,
    json: body,
    headers: requestId ? { 'paypal-request-id': requestId } : {},
  });
}

/** An approved order, captured: its capture id. */
async function capturedOrder(
  accessToken: string,
  amount = usd('10.00'),
): Promise<{ orderId: string; captureId: string }> {
  const created = await createOrder(accessToken, orderBody(amount));
  emulator.approve(created.json.id);
  const captured = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, {
    token: accessToken,
    json: {},
  });
  expect(captured.status).toBe(201);
  return { orderId: created.json.id, captureId: captured.json.purchase_units[0].payments.captures[0].id };
}

const issueOf = (res: { json: Json }) => res.json.details?.[0]?.issue;

beforeAll(async () => {
  emulator = createPayPalEmulator({ webhookRetryDelaysMs: [20, 40] });
  base = await emulator.listen();
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ raw: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/paypal`;
});
afterAll(async () => {
  await emulator.close();
  await new Promise((resolve) => receiver.close(resolve));
});
beforeEach(() => {
  emulator.reset();
  emulator.setWebhookUrl(undefined);
  emulator.setTokenLifetime(32_400);
  emulator.setOrderTtl(3 * 60 * 60 * 1000);
  received = [];
});

describe('OAuth 2.0 client credentials', () => {
  it('issues bearer tokens with expires_in for the right Basic credentials, counted in the state', async () => {
    const res = await call('POST', '/v1/oauth2/token', {
      headers: { authorization: basic() },
      form: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 32_400, app_id: expect.any(String) });
    expect(res.json.access_token).toMatch(/^A21AA/);
    expect(res.headers['paypal-debug-id']).toMatch(/^[0-9a-f]{13}$/);
    expect(emulator.state().tokens).toMatchObject({ tokenRequests: 1, tokensIssued: 1, activeTokens: 1 });
  });

  it('refuses a wrong secret (invalid_client), no credentials, and another grant type', async () => {
    const wrong = await call('POST', '/v1/oauth2/token', {
      headers: { authorization: basic(EMULATOR_CLIENT.id, 'not-the-secret') },
      form: 'grant_type=client_credentials',
    });
    expect([wrong.status, wrong.json]).toEqual([
      401,
      { error: 'invalid_client', error_description: 'Client Authentication failed' },
    ]);
    const none = await call('POST', '/v1/oauth2/token', { form: 'grant_type=client_credentials' });
    expect(none.status).toBe(401);
    const grant = await call('POST', '/v1/oauth2/token', {
      headers: { authorization: basic() },
      form: 'grant_type=password',
    });
    expect([grant.status, grant.json.error]).toEqual([400, 'unsupported_grant_type']);
    expect(emulator.state().tokens).toMatchObject({ tokenRequests: 3, tokensIssued: 0 });
  });

  it('answers 401 invalid_token once a token has expired, and AUTHENTICATION_FAILURE without one', async () => {
    emulator.setTokenLifetime(1);
    const short = await token();
    expect((await call('GET', '/v2/checkout/orders/NOPE', { token: short })).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await call('GET', '/v2/checkout/orders/NOPE', { token: short });
    expect([expired.status, expired.json]).toEqual([
      401,
      { error: 'invalid_token', error_description: 'The token passed in was found to be expired' },
    ]);
    const missing = await call('GET', '/v2/checkout/orders/NOPE');
    expect([missing.status, missing.json.name]).toEqual([401, 'AUTHENTICATION_FAILURE']);
    expect(missing.json.debug_id).toBe(missing.headers['paypal-debug-id']);
  });
});

describe('Orders v2', () => {
  it('creates an order needing the payer (payer-action link to the approval page), gets it, and captures it once approved', async () => {
    const t = await token();
    const created = await createOrder(t);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^[A-Z0-9]{17}$/),
      status: 'PAYER_ACTION_REQUIRED',
    });
    expect(created.json.links.find((l: Json) => l.rel === 'payer-action').href).toBe(
      `${base}/checkoutnow?token=${created.json.id}`,
    );
    const got = await call('GET', `/v2/checkout/orders/${created.json.id}`, { token: t });
    expect(got.json.purchase_units[0]).toMatchObject({
      reference_id: 'listing-1',
      custom_id: 'payment-1',
      amount: usd('10.00'),
    });

    const early = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, { token: t, json: {} });
    expect([early.status, early.json.name, issueOf(early)]).toEqual([
      422,
      'UNPROCESSABLE_ENTITY',
      'ORDER_NOT_APPROVED',
    ]);

    emulator.approve(created.json.id);
    expect((await call('GET', `/v2/checkout/orders/${created.json.id}`, { token: t })).json.status).toBe('APPROVED');
    const captured = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, { token: t, json: {} });
    expect(captured.status).toBe(201);
    expect(captured.json.status).toBe('COMPLETED');
    expect(captured.json.purchase_units[0].payments.captures[0]).toMatchObject({
      status: 'COMPLETED',
      amount: usd('10.00'),
      custom_id: 'payment-1',
      final_capture: true,
    });
    const again = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, { token: t, json: {} });
    expect([again.status, issueOf(again)]).toEqual([422, 'ORDER_ALREADY_CAPTURED']);
  });

  it('takes return URLs from application_context too (an approve link, status CREATED), and answers minimal or full as Prefer asks', async () => {
    const t = await token();
    const legacy = {
      intent: 'CAPTURE',
      purchase_units: [{ amount: usd('5') }],
      application_context: { return_url: 'http://127.0.0.1:9/r' },
    };
    const minimal = await createOrder(t, legacy);
    expect(Object.keys(minimal.json).sort()).toEqual(['id', 'links', 'status']);
    expect(minimal.json.status).toBe('CREATED');
    expect(minimal.json.links.map((l: Json) => l.rel)).toContain('approve');
    const full = await call('POST', '/v2/checkout/orders', {
      token: t,
      json: legacy,
      headers: { prefer: 'return=representation' },
    });
    expect(full.json.purchase_units[0].amount).toEqual(usd('5.00'));
  });

  it('refuses bad amounts and currencies as PayPal does', async () => {
    const t = await token();
    const cases: Array<[Json, number, string]> = [
      [usd('10.001'), 400, 'DECIMAL_PRECISION'],
      [{ currency_code: 'JPY', value: '1500.50' }, 400, 'DECIMALS_NOT_SUPPORTED'],
      [{ currency_code: 'HUF', value: '1500.00' }, 400, 'DECIMALS_NOT_SUPPORTED'],
      [usd('ten'), 400, 'INVALID_PARAMETER_SYNTAX'],
      [usd('0.00'), 422, 'CANNOT_BE_ZERO_OR_NEGATIVE'],
      [usd('-1.00'), 422, 'CANNOT_BE_ZERO_OR_NEGATIVE'],
      [{ currency_code: 'XYZ', value: '1.00' }, 422, 'CURRENCY_NOT_SUPPORTED'],
      [{ value: '1.00' }, 400, 'MISSING_REQUIRED_PARAMETER'],
    ];
    for (const [amount, status, issue] of cases) {
      const res = await createOrder(t, orderBody(amount));
      expect([JSON.stringify(amount), res.status, issueOf(res)]).toEqual([JSON.stringify(amount), status, issue]);
      expect(res.json.debug_id).toBe(res.headers['paypal-debug-id']);
    }
    const yen = await createOrder(t, orderBody({ currency_code: 'JPY', value: '1500' }));
    expect(yen.status).toBe(201);
    const malformed = await call('POST', '/v2/checkout/orders', { token: t, json: '{"intent":' });
    expect([malformed.status, malformed.json.name, issueOf(malformed)]).toEqual([
      400,
      'INVALID_REQUEST',
      'MALFORMED_REQUEST_JSON',
    ]);
    expect(emulator.state().orders).toHaveLength(1);
  });

  it('lets an order nobody approved expire: gone from the API and the approval page', async () => {
    const t = await token();
    emulator.setOrderTtl(50);
    const created = await createOrder(t);
    await new Promise((resolve) => setTimeout(resolve, 80));
    const gone = await call('GET', `/v2/checkout/orders/${created.json.id}`, { token: t });
    expect([gone.status, gone.json.name, issueOf(gone)]).toEqual([404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID']);
    const page = await call('GET', `/checkoutnow?token=${created.json.id}`);
    expect(page.status).toBe(404);
    expect(emulator.state().orders[0]!.emulator.expired).toBe(true);
  });
});

describe('PayPal-Request-Id', () => {
  it('answers the same id with the latest state of the same order, never a second order', async () => {
    const t = await token();
    const first = await createOrder(t, orderBody(), 'req-create-1');
    const again = await createOrder(t, orderBody(usd('99.00')), 'req-create-1');
    expect(again.json.id).toBe(first.json.id);
    emulator.approve(first.json.id);
    const later = await createOrder(t, orderBody(), 'req-create-1');
    expect([later.json.id, later.json.status]).toEqual([first.json.id, 'APPROVED']);
    expect(emulator.state().orders).toHaveLength(1);
    expect(emulator.state().requests.filter((r) => r.replayed)).toHaveLength(2);
  });

  it('refuses an id used for another operation, and a second request while the first is running', async () => {
    const t = await token();
    const created = await createOrder(t, orderBody(), 'req-shared');
    emulator.approve(created.json.id);
    const reused = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, {
      token: t,
      json: {},
      headers: { 'paypal-request-id': 'req-shared' },
    });
    expect([reused.status, issueOf(reused)]).toEqual([422, 'PAYPAL_REQUEST_ID_PREVIOUSLY_USED']);

    emulator.setFaults([{ kind: 'hang', ms: 300, path: '/v2/checkout/orders' }]);
    const slow = createOrder(t, orderBody(), 'req-concurrent');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await createOrder(t, orderBody(), 'req-concurrent');
    expect([second.status, issueOf(second)]).toEqual([422, 'PREVIOUS_REQUEST_IN_PROGRESS']);
    expect((await slow).status).toBe(201);
    expect((await createOrder(t, orderBody(), 'req-concurrent')).json.id).toBe((await slow).json.id);
  });

  it('keeps no failure: a refused capture may be sent again with the same id and succeed', async () => {
    const t = await token();
    const created = await createOrder(t);
    const refused = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, {
      token: t,
      json: {},
      headers: { 'paypal-request-id': 'req-cap' },
    });
    expect(issueOf(refused)).toBe('ORDER_NOT_APPROVED');
    emulator.approve(created.json.id);
    const ok = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, {
      token: t,
      json: {},
      headers: { 'paypal-request-id': 'req-cap' },
    });
    expect(ok.status).toBe(201);
  });
});

describe('captures and refunds', () => {
  it('refunds part, refuses more than is left, refunds the rest without an amount, then refuses another', async () => {
    const t = await token();
    const { captureId } = await capturedOrder(t, usd('10.00'));
    const part = await call('POST', `/v2/payments/captures/${captureId}/refund`, {
      token: t,
      json: { amount: usd('4.00') },
      headers: { prefer: 'return=representation' },
    });
    expect([part.status, part.json.status, part.json.amount]).toEqual([201, 'COMPLETED', usd('4.00')]);
    expect((await call('GET', `/v2/payments/captures/${captureId}`, { token: t })).json.status).toBe(
      'PARTIALLY_REFUNDED',
    );
    const tooMuch = await call('POST', `/v2/payments/captures/${captureId}/refund`, {
      token: t,
      json: { amount: usd('6.01') },
    });
    expect([tooMuch.status, issueOf(tooMuch)]).toEqual([422, 'REFUND_AMOUNT_EXCEEDED']);
    const mismatch = await call('POST', `/v2/payments/captures/${captureId}/refund`, {
      token: t,
      json: { amount: { currency_code: 'EUR', value: '1.00' } },
    });
    expect(issueOf(mismatch)).toBe('REFUND_CAPTURE_CURRENCY_MISMATCH');
    const precision = await call('POST', `/v2/payments/captures/${captureId}/refund`, {
      token: t,
      json: { amount: usd('1.001') },
    });
    expect([precision.status, issueOf(precision)]).toEqual([422, 'DECIMAL_PRECISION']);
    const rest = await call('POST', `/v2/payments/captures/${captureId}/refund`, {
      token: t,
      json: {},
      headers: { prefer: 'return=representation' },
    });
    expect(rest.json.amount).toEqual(usd('6.00'));
    const capture = await call('GET', `/v2/payments/captures/${captureId}`, { token: t });
    expect(capture.json.status).toBe('REFUNDED');
    const more = await call('POST', `/v2/payments/captures/${captureId}/refund`, { token: t, json: {} });
    expect([more.status, issueOf(more)]).toEqual([422, 'CAPTURE_FULLY_REFUNDED']);
    expect((await call('GET', `/v2/payments/captures/UNKNOWN`, { token: t })).status).toBe(404);
  });

  it('keeps a capture pending for eCheck funding until an admin clears it; a declined card sends the payer back to approve', async () => {
    const t = await token();
    const pending = await createOrder(t);
    emulator.approve(pending.json.id, 'pending');
    const captured = await call('POST', `/v2/checkout/orders/${pending.json.id}/capture`, { token: t, json: {} });
    const capture = captured.json.purchase_units[0].payments.captures[0];
    expect([capture.status, capture.status_details]).toEqual(['PENDING', { reason: 'ECHECK' }]);
    const refund = await call('POST', `/v2/payments/captures/${capture.id}/refund`, { token: t, json: {} });
    expect(issueOf(refund)).toBe('PENDING_CAPTURE');
    const cleared = await call('POST', `/__emulator/captures/${capture.id}/complete`);
    expect(cleared.json.status).toBe('COMPLETED');

    const declined = await createOrder(t);
    emulator.approve(declined.json.id, 'declined');
    const refused = await call('POST', `/v2/checkout/orders/${declined.json.id}/capture`, { token: t, json: {} });
    expect([refused.status, issueOf(refused)]).toEqual([422, 'INSTRUMENT_DECLINED']);
    expect((await call('GET', `/v2/checkout/orders/${declined.json.id}`, { token: t })).json.status).toBe(
      'PAYER_ACTION_REQUIRED',
    );
  });
});

describe('the approval page', () => {
  it('shows the amount with Approve and Cancel; Approve redirects to return_url with token and PayerID', async () => {
    const t = await token();
    const created = await createOrder(t);
    const page = await call('GET', `/checkoutnow?token=${created.json.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('$10.00');
    expect(page.text).toContain('id="approve"');
    expect(page.text).toContain('id="cancel"');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const approved = await call('POST', '/checkoutnow/approve', { form: `token=${created.json.id}&funding=balance` });
    expect(approved.status).toBe(303);
    const location = new URL(String(approved.headers.location));
    expect([location.pathname, location.searchParams.get('token')]).toEqual(['/return', created.json.id]);
    expect(location.searchParams.get('PayerID')).toMatch(/^[A-Z0-9]{13}$/);
    expect((await call('POST', '/checkoutnow/approve', { form: `token=${created.json.id}` })).status).toBe(409);
  });

  it('Cancel redirects to cancel_url and leaves the order unapproved', async () => {
    const t = await token();
    const created = await createOrder(t);
    const cancelled = await call('POST', '/checkoutnow/cancel', { form: `token=${created.json.id}` });
    expect(cancelled.status).toBe(303);
    expect(String(cancelled.headers.location)).toBe(`http://127.0.0.1:9/cancel?token=${created.json.id}`);
    expect((await call('GET', `/v2/checkout/orders/${created.json.id}`, { token: t })).json.status).toBe(
      'PAYER_ACTION_REQUIRED',
    );
  });

  it('has an activity page and a JSON state', async () => {
    const t = await token();
    await createOrder(t);
    const page = await call('GET', '/__emulator');
    expect(page.text).toContain('PayPal emulator');
    expect(page.text).toContain('PAYER_ACTION_REQUIRED');
    const state = await call('GET', '/__emulator/state');
    expect(state.json.tokens.tokenRequests).toBe(1);
    expect(state.json.orders).toHaveLength(1);
  });
});

describe('webhooks', () => {
  const verify = (t: string, delivery: { raw: string; headers: http.IncomingHttpHeaders }, overrides: Json = {}) =>
    call('POST', '/v1/notifications/verify-webhook-signature', {
      token: t,
      json: {
        auth_algo: delivery.headers['paypal-auth-algo'],
        cert_url: delivery.headers['paypal-cert-url'],
        transmission_id: delivery.headers['paypal-transmission-id'],
        transmission_sig: delivery.headers['paypal-transmission-sig'],
        transmission_time: delivery.headers['paypal-transmission-time'],
        webhook_id: EMULATOR_WEBHOOK_ID,
        webhook_event: JSON.parse(delivery.raw),
        ...overrides,
      },
    });

  it('sends CHECKOUT.ORDER.APPROVED, PAYMENT.CAPTURE.COMPLETED and .REFUNDED, signed so that verify-webhook-signature says SUCCESS', async () => {
    emulator.setWebhookUrl(receiverUrl);
    const t = await token();
    const { captureId } = await capturedOrder(t);
    await call('POST', `/v2/payments/captures/${captureId}/refund`, { token: t, json: {} });
    await emulator.flushWebhooks();
    const types = received.map((delivery) => JSON.parse(delivery.raw).event_type);
    expect(types).toEqual(['CHECKOUT.ORDER.APPROVED', 'PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.REFUNDED']);
    const completed = JSON.parse(received[1]!.raw);
    expect(completed).toMatchObject({ resource_type: 'capture', resource: { id: captureId, custom_id: 'payment-1' } });
    for (const delivery of received) {
      expect(delivery.headers['paypal-auth-algo']).toBe('SHA256withRSA');
      expect((await verify(t, delivery)).json).toEqual({ verification_status: 'SUCCESS' });
    }
  });

  it('says FAILURE for a changed event, another webhook id or a forged signature; a missing field is a 400', async () => {
    emulator.setWebhookUrl(receiverUrl);
    const t = await token();
    await capturedOrder(t);
    await emulator.flushWebhooks();
    const delivery = received[1]!;
    const changed = JSON.parse(delivery.raw);
    changed.resource.amount.value = '0.01';
    expect((await verify(t, delivery, { webhook_event: changed })).json.verification_status).toBe('FAILURE');
    expect((await verify(t, delivery, { webhook_id: 'OTHERWEBHOOK1' })).json.verification_status).toBe('FAILURE');
    expect(
      (await verify(t, delivery, { transmission_sig: received[0]!.headers['paypal-transmission-sig'] })).json
        .verification_status,
    ).toBe('FAILURE');
    const missing = await verify(t, delivery, { transmission_id: undefined });
    expect([missing.status, issueOf(missing)]).toEqual([400, 'MISSING_REQUIRED_PARAMETER']);
  });

  it('can be verified offline with the key at PAYPAL-CERT-URL (CRC32 of the body in the signed string)', async () => {
    emulator.setWebhookUrl(receiverUrl);
    const t = await token();
    await createOrder(t).then((created) => emulator.approve(created.json.id));
    await emulator.flushWebhooks();
    const delivery = received[0]!;
    const cert = await request(String(delivery.headers['paypal-cert-url'])).then((res) => res.body.text());
    const message = signedString(
      String(delivery.headers['paypal-transmission-id']),
      String(delivery.headers['paypal-transmission-time']),
      EMULATOR_WEBHOOK_ID,
      delivery.raw,
    );
    expect(
      createVerify('RSA-SHA256')
        .update(message)
        .verify(cert, String(delivery.headers['paypal-transmission-sig']), 'base64'),
    ).toBe(true);
    expect(
      createVerify('RSA-SHA256')
        .update(message.replace(/\d+$/, '1'))
        .verify(cert, String(delivery.headers['paypal-transmission-sig']), 'base64'),
    ).toBe(false);
  });
});

describe('fault switches', () => {
  it('token_unavailable: 503, or a dropped connection, then tokens again', async () => {
    emulator.setFaults([
      { kind: 'token_unavailable', times: 1 },
      { kind: 'token_unavailable', drop: true, times: 1 },
    ]);
    const down = await call('POST', '/v1/oauth2/token', {
      headers: { authorization: basic() },
      form: 'grant_type=client_credentials',
    });
    expect([down.status, down.json.name]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    await expect(
      call('POST', '/v1/oauth2/token', { headers: { authorization: basic() }, form: 'grant_type=client_credentials' }),
    ).rejects.toThrow();
    expect(await token()).toMatch(/^A21AA/);
  });

  it('token_expired: a valid token gets 401 invalid_token and stays refused; a new token works', async () => {
    const t = await token();
    emulator.setFaults([{ kind: 'token_expired' }]);
    expect((await call('GET', '/v2/checkout/orders/X', { token: t })).json.error).toBe('invalid_token');
    expect((await call('GET', '/v2/checkout/orders/X', { token: t })).status).toBe(401);
    expect((await call('GET', '/v2/checkout/orders/X', { token: await token() })).status).toBe(404);
  });

  it('server_error and rate_limit answer in PayPal’s shape, before any work is done', async () => {
    const t = await token();
    emulator.setFaults([{ kind: 'server_error', status: 502 }, { kind: 'rate_limit' }]);
    const error = await createOrder(t, orderBody(), 'req-fault');
    expect([error.status, error.json.name]).toEqual([502, 'INTERNAL_SERVER_ERROR']);
    const limited = await createOrder(t, orderBody(), 'req-fault');
    expect([limited.status, limited.json.name]).toEqual([429, 'RATE_LIMIT_REACHED']);
    expect((await createOrder(t, orderBody(), 'req-fault')).status).toBe(201);
    expect(emulator.state().orders).toHaveLength(1);
  });

  it('hang: a client that gives up sees no answer; the work is done once the hang ends', async () => {
    const t = await token();
    emulator.setFaults([{ kind: 'hang', ms: 400, path: '/v2/checkout/orders' }]);
    await expect(createOrder(t, orderBody(), undefined).then(() => 'answered')).resolves.toBe('answered');
    emulator.setFaults([{ kind: 'hang', ms: 400, path: '/v2/checkout/orders' }]);
    await expect(
      call('POST', '/v2/checkout/orders', { token: t, json: orderBody(), timeoutMs: 100 }),
    ).rejects.toThrow();
  });

  it('drop_after_capture: the capture happens and the answer is lost; the same request id then answers it', async () => {
    const t = await token();
    const created = await createOrder(t);
    emulator.approve(created.json.id);
    emulator.setFaults([{ kind: 'drop_after_capture' }]);
    const capture = () =>
      call('POST', `/v2/checkout/orders/${created.json.id}/capture`, {
        token: t,
        json: {},
        headers: { 'paypal-request-id': 'req-drop' },
      });
    await expect(capture()).rejects.toThrow();
    expect(emulator.state().captures).toHaveLength(1);
    const retried = await capture();
    expect([retried.status, retried.json.purchase_units[0].payments.captures[0].id]).toEqual([
      201,
      emulator.state().captures[0]!.id,
    ]);
  });

  it('webhook_duplicate sends one event in two transmissions; webhook_out_of_order delivers newest first', async () => {
    emulator.setWebhookUrl(receiverUrl);
    const t = await token();
    emulator.setFaults([{ kind: 'webhook_duplicate' }]);
    await createOrder(t).then((created) => emulator.approve(created.json.id));
    await emulator.flushWebhooks();
    expect(received).toHaveLength(2);
    expect(JSON.parse(received[0]!.raw).id).toBe(JSON.parse(received[1]!.raw).id);
    expect(received[0]!.headers['paypal-transmission-id']).not.toBe(received[1]!.headers['paypal-transmission-id']);

    received = [];
    emulator.setFaults([{ kind: 'webhook_out_of_order', times: 2 }]);
    await capturedOrder(t);
    await emulator.flushWebhooks();
    expect(received.map((delivery) => JSON.parse(delivery.raw).event_type)).toEqual([
      'PAYMENT.CAPTURE.COMPLETED',
      'CHECKOUT.ORDER.APPROVED',
    ]);
  });

  it('faults are set, listed and cleared over HTTP; a bad one is a 400 naming the problem', async () => {
    const set = await call('POST', '/__emulator/faults', { json: { faults: [{ kind: 'rate_limit', times: 2 }] } });
    expect(set.json.faults).toEqual([{ kind: 'rate_limit', times: 2, remaining: 2 }]);
    const bad = await call('POST', '/__emulator/faults', { json: { kind: 'melt' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('faults[0].kind must be one of');
    expect((await call('DELETE', '/__emulator/faults')).json).toEqual({ faults: [] });
  });
});

import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let ada: TestUser;
let bob: TestUser;

const rest = async (
  path: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
) => {
  const res = await fetch(new URL(path, stack.urls.gateway), {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
};

beforeAll(async () => {
  stack = await startTestStack({ PROVIDER_RETRY_DELAY_MS: '5', PROVIDER_BREAKER_THRESHOLD: '100' });
  ada = await registerUser(stack, 'Ada');
  bob = await registerUser(stack, 'Bob');
});
afterAll(() => stack?.stop());
afterEach(() => stack.stripe!.clearFaults());

describe('seed REST endpoints on the gateway', () => {
  it('POST /payments/charge answers like the seed example, and GET /payments/transaction-status reads it back', async () => {
    const listing = await createListing(stack, ada);
    const charged = await rest('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: {
        listing_id: listing.id,
        payment_method_id: 'pm_card_visa',
        amount: 1000,
        currency: 'USD',
        description: 'Classified Listing Payment',
      },
      headers: { 'idempotency-key': 'rest-key-0001' },
    });
    expect(charged.status).toBe(200);
    expect(charged.body).toEqual({
      status: 'success',
      transaction_id: expect.any(String),
      amount: 1000,
      currency: 'USD',
      payment_status: 'completed',
      listing_id: listing.id,
    });
    const again = await rest('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
      headers: { 'idempotency-key': 'rest-key-0001' },
    });
    expect(again.body.transaction_id).toBe(charged.body.transaction_id);

    const status = await rest(`/payments/transaction-status?transaction_id=${charged.body.transaction_id}`, {
      token: ada.token,
    });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      transaction_id: charged.body.transaction_id,
      payment_status: 'completed',
      provider: 'stripe',
      amount: 1000,
      currency: 'USD',
      listing_id: listing.id,
    });
  });

  it('maps errors to HTTP statuses with the same codes as the graph', async () => {
    const listing = await createListing(stack, ada);
    const cases: Array<[ReturnType<typeof rest>, number, string]> = [
      [
        rest('/payments/charge', { method: 'POST', token: ada.token, body: { payment_method_id: 'pm_card_visa' } }),
        400,
        'BAD_USER_INPUT',
      ],
      [rest('/payments/charge', { method: 'POST', token: ada.token, body: '{"listing_id": ' }), 400, 'BAD_REQUEST'],
      [
        rest('/payments/charge', {
          method: 'POST',
          token: ada.token,
          body: { listing_id: listing.id, payment_method_id: 'pm_card_visa', amount: 5 },
        }),
        400,
        'BAD_USER_INPUT',
      ],
      [
        rest('/payments/charge', {
          method: 'POST',
          token: 'forged.token.value',
          body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
        }),
        401,
        'UNAUTHENTICATED',
      ],
      [
        rest('/payments/charge', {
          method: 'POST',
          body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
        }),
        401,
        'UNAUTHENTICATED',
      ],
      [
        rest('/payments/charge', {
          method: 'POST',
          token: bob.token,
          body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
        }),
        404,
        'NOT_FOUND',
      ],
      [rest('/payments/transaction-status', { token: ada.token }), 400, 'BAD_USER_INPUT'],
      [
        rest('/payments/transaction-status?transaction_id=00000000-0000-4000-8000-000000000000', { token: ada.token }),
        404,
        'NOT_FOUND',
      ],
      [rest('/payments/charge', { token: ada.token }), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [call, status, code] of cases) {
      const res = await call;
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    }
    expect(stack.stripe!.paymentIntents().filter((pi) => pi.metadata?.listing_id === listing.id)).toHaveLength(0);
  });

  it('speaks REST in its errors: REST field names, the values an enum takes, 401 with a hint when anonymous, 404 for nothing found and for unknown endpoints', async () => {
    const admin = await registerUser(stack, 'Rest Admin', ['user', 'admin']);
    const listing = await createListing(stack, ada);
    // Field names as the caller sent them, not the GraphQL ones.
    const missing = await rest('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: listing.id },
    });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_USER_INPUT', field: 'payment_method_id' } },
    });
    const refused = await rest('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: listing.id, payment_method_id: 'pm_card_visa_declined' },
    });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_USER_INPUT', field: 'payment_method_id' } },
    });
    // An unknown template names the ones there are, and leaks no GraphQL variable text.
    const template = await rest('/email/send', {
      method: 'POST',
      token: admin.token,
      body: { to: 'someone@example.com', template: 'promo' },
    });
    expect(template).toMatchObject({ status: 400, body: { error: { code: 'BAD_USER_INPUT', field: 'template' } } });
    expect(template.body.error.message).toMatch(/^template must be one of .*promotion.*; "PROMO" is not$/);
    expect(JSON.stringify(template.body)).not.toMatch(/Variable|\$input/);
    // Anonymous: 401 saying how to sign in, before anything runs.
    const anonymous = await rest('/payments/transaction-status?transaction_id=00000000-0000-4000-8000-000000000000');
    expect(anonymous).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/Authorization: Bearer/) } },
    });
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Nothing found is 404, not 200 with nulls.
    expect(
      await rest('/crm/user-data?user_id=00000000-0000-4000-8000-000000000000', { token: admin.token }),
    ).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await rest('/crm/user-data?user_id=nope', { token: admin.token })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    // An unknown endpoint under a REST prefix answers in the REST shape and lists the endpoints.
    const unknown = await rest('/payments/refund', { token: ada.token });
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.stringContaining('/payments/charge') } },
    });
    expect((await rest('/nothing-here')).body).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] }); // elsewhere: the gateway's own shape
  });

  it('answers a declined card and a Stripe outage in ways a client can act on', async () => {
    const listing = await createListing(stack, ada);
    const declined = await rest('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: listing.id, payment_method_id: 'pm_card_chargeDeclinedExpiredCard' },
    });
    expect(declined.body).toMatchObject({
      status: 'declined',
      payment_status: 'declined',
      decline_code: 'expired_card',
    });
    stack.stripe!.setFaults([{ kind: 'server_error', times: 1000 }]);
    const down = await rest('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
    });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('POST /crm/add-user and GET /crm/user-data answer in the shape of the seed, for the user and admins only', async () => {
    await createListing(stack, ada);
    const added = await rest('/crm/add-user', {
      method: 'POST',
      token: ada.token,
      body: { user_id: ada.id, name: 'Ignored Name', email: 'ignored@example.com', listing_count: 99 },
    });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      user_id: ada.id,
      sync_status: 'synced',
      email: ada.email,
      name: 'Ada',
      currency: 'USD',
    });
    expect(added.body.crm_id).toMatch(/^\d+$/);
    expect(added.body.listing_count).toBeGreaterThanOrEqual(1);
    const read = await rest(`/crm/user-data?user_id=${ada.id}`, { token: ada.token });
    expect(read.body).toMatchObject({ user_id: ada.id, crm_id: added.body.crm_id, email: ada.email });
    expect((await rest(`/crm/user-data?user_id=${ada.id}`, { token: bob.token })).status).toBe(403);
    expect((await rest('/crm/add-user', { method: 'POST', token: ada.token, body: {} })).status).toBe(400);
  });
});

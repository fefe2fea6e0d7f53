import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { projectRoot } from '../../lib/data-dir';
import { CreateCampaignDocument } from '../generated/graphql';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * Every documented REST route, driven through a running gateway, answers as schema/openapi.json
 * says (issue 14): each real answer, a success and errors, is checked with ajv (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses) against the document's schema for its status.
 */
let stack: TestStack;
let ada: TestUser;
let bob: TestUser;
let admin: TestUser;
const doc = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'schema/openapi.json'), 'utf8'));
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
const seen: Array<{ route: string; status: number }> = [];

/** The document's schema for this answer, its component `$ref` resolved. */
function schemaFor(route: string, method: string, status: number): object {
  const response = doc.paths[route]?.[method.toLowerCase()]?.responses?.[status];
  if (!response) throw new Error(`${method} ${route} answered ${status}, which the document does not list`);
  const schema = response.content['application/json'].schema;
  return schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
}

/** Calls the route and checks the answer against the document; returns it for the test's own assertions. */
async function call(
  route: string,
  init: {
    method?: string;
    query?: Record<string, string>;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
) {
  const method = init.method ?? 'GET';
  const url = new URL(route, stack.urls.gateway);
  for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
  const res = await fetch(url, {
    method,
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const body = (await res.json()) as Record<string, any>;
  // A wrong method is documented under the route's own method: that is the one the document has.
  const documented = Object.keys(doc.paths[route] ?? {})[0] ?? method;
  const validate = ajv.compile(schemaFor(route, documented, res.status));
  if (!validate(body))
    throw new Error(
      `${method} ${route} → ${res.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
    );
  seen.push({ route, status: res.status });
  return { status: res.status, body };
}

beforeAll(async () => {
  stack = await startTestStack({ PROVIDER_RETRY_DELAY_MS: '5', PROVIDER_BREAKER_THRESHOLD: '100' });
  [ada, bob, admin] = await Promise.all([
    registerUser(stack, 'Ada Api'),
    registerUser(stack, 'Bob Api'),
    registerUser(stack, 'Admin Api', ['user', 'admin']),
  ]);
});
afterAll(() => stack?.stop());
afterEach(() => stack.stripe!.clearFaults());

describe('the REST facade answers as schema/openapi.json says', () => {
  it('serves at /openapi.json the document that is checked in', async () => {
    const res = await fetch(new URL('/openapi.json', stack.urls.gateway));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(doc);
  });

  it('payments: charge (paid, declined, refused, not yours, already paid, wrong method, Stripe down) and transaction-status', async () => {
    const listing = await createListing(stack, ada);
    const paid = await call('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
      headers: { 'idempotency-key': `oa-${listing.id}` },
    });
    expect(paid).toMatchObject({ status: 200, body: { status: 'success', payment_status: 'completed' } });
    const declinedListing = await createListing(stack, ada);
    expect(
      (
        await call('/payments/charge', {
          method: 'POST',
          token: ada.token,
          body: { listing_id: declinedListing.id, payment_method_id: 'pm_card_chargeDeclinedExpiredCard' },
        })
      ).body,
    ).toMatchObject({ status: 'declined', decline_code: 'expired_card' });

    const errors: Array<[Promise<{ status: number; body: Record<string, any> }>, number, string]> = [
      [
        call('/payments/charge', { method: 'POST', token: ada.token, body: { listing_id: listing.id } }),
        400,
        'BAD_USER_INPUT',
      ],
      [call('/payments/charge', { method: 'POST', token: ada.token, body: '[1]' }), 400, 'BAD_REQUEST'],
      [
        call('/payments/charge', {
          method: 'POST',
          body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
        }),
        401,
        'UNAUTHENTICATED',
      ],
      [
        call('/payments/charge', {
          method: 'POST',
          token: bob.token,
          body: { listing_id: declinedListing.id, payment_method_id: 'pm_card_visa' },
        }),
        404,
        'NOT_FOUND',
      ],
      [
        call('/payments/charge', {
          method: 'POST',
          token: ada.token,
          body: { listing_id: listing.id, payment_method_id: 'pm_card_visa' },
        }),
        409,
        'CONFLICT',
      ],
      [call('/payments/charge', { token: ada.token }), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [answer, status, code] of errors)
      expect(await answer).toMatchObject({ status, body: { error: { code } } });
    // A key reused for another charge: the message names the body's field, not the graph's.
    const reused = await call('/payments/charge', {
      method: 'POST',
      token: ada.token,
      body: { listing_id: declinedListing.id, payment_method_id: 'pm_card_visa', idempotency_key: `oa-${listing.id}` },
    });
    expect(reused.body.error).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'idempotency_key',
      message: 'idempotency_key was already used for a different charge',
    });
    stack.stripe!.setFaults([{ kind: 'server_error', times: 1000 }]);
    expect(
      await call('/payments/charge', {
        method: 'POST',
        token: ada.token,
        body: { listing_id: declinedListing.id, payment_method_id: 'pm_card_visa' },
      }),
    ).toMatchObject({ status: 503, body: { error: { code: 'PROVIDER_UNAVAILABLE' } } });
    stack.stripe!.clearFaults();

    const read = await call('/payments/transaction-status', {
      token: ada.token,
      query: { transaction_id: paid.body.transaction_id },
    });
    expect(read.body).toMatchObject({
      transaction_id: paid.body.transaction_id,
      payment_status: 'completed',
      listing_status: 'ACTIVE',
    });
    expect((await call('/payments/transaction-status', { token: ada.token })).status).toBe(400);
    expect(
      (
        await call('/payments/transaction-status', {
          token: bob.token,
          query: { transaction_id: paid.body.transaction_id },
        })
      ).status,
    ).toBe(404);
    expect(
      (await call('/payments/transaction-status', { query: { transaction_id: paid.body.transaction_id } })).status,
    ).toBe(401);
  });

  it('email: send (sent, unknown template, not an admin) and campaign-status', async () => {
    const sent = await call('/email/send', {
      method: 'POST',
      token: admin.token,
      body: {
        to: 'reader@example.com',
        template: 'account_update',
        data: { name: 'Reader', summary: 'A change', message: 'Your settings changed.' },
      },
    });
    expect(sent).toMatchObject({ status: 200, body: { template: 'account_update', to: 'reader@example.com' } });
    const unknown = await call('/email/send', {
      method: 'POST',
      token: admin.token,
      body: { to: 'reader@example.com', template: 'promo' },
    });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'BAD_USER_INPUT', field: 'template' } } });
    const badData = await call('/email/send', {
      method: 'POST',
      token: admin.token,
      body: { to: 'reader@example.com', template: 'account_update', data: { name: 'Reader' } },
    });
    expect(badData).toMatchObject({
      status: 400,
      body: { error: { field: expect.stringMatching(/^data\.(summary|message)$/) } },
    });
    expect(
      await call('/email/send', {
        method: 'POST',
        token: ada.token,
        body: { to: 'reader@example.com', template: 'welcome' },
      }),
    ).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });

    const promotion = { subject: 'OpenAPI deals', headline: 'Documented', body: 'Every route, checked.' };
    const { createCampaign } = dataOf(
      await stack.graph(
        CreateCampaignDocument,
        { input: { name: 'openapi', ...promotion, userIds: [bob.id] } },
        { token: admin.token },
      ),
    );
    expect(
      await call('/email/campaign-status', { token: admin.token, query: { campaign_id: createCampaign.id } }),
    ).toMatchObject({ status: 200, body: { campaign_id: createCampaign.id, status: 'draft' } });
    expect(
      (
        await call('/email/campaign-status', {
          token: admin.token,
          query: { campaign_id: '00000000-0000-4000-8000-000000000000' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await call('/email/campaign-status', { token: ada.token, query: { campaign_id: createCampaign.id } })).status,
    ).toBe(403);
    expect((await call('/email/campaign-status', { token: admin.token })).status).toBe(400);
  });

  it('crm: add-user and user-data (synced, missing user_id, not yours, nothing found)', async () => {
    expect(await call('/crm/add-user', { method: 'POST', token: ada.token, body: { user_id: ada.id } })).toMatchObject({
      status: 200,
      body: { user_id: ada.id, sync_status: 'synced' },
    });
    expect(await call('/crm/add-user', { method: 'POST', token: ada.token, body: {} })).toMatchObject({
      status: 400,
      body: { error: { field: 'user_id' } },
    });
    expect((await call('/crm/add-user', { method: 'POST', token: ada.token, body: { user_id: bob.id } })).status).toBe(
      403,
    );
    expect(await call('/crm/user-data', { token: ada.token, query: { user_id: ada.id } })).toMatchObject({
      status: 200,
      body: { user_id: ada.id },
    });
    expect((await call('/crm/user-data', { token: bob.token, query: { user_id: ada.id } })).status).toBe(403);
    expect(
      (await call('/crm/user-data', { token: admin.token, query: { user_id: '00000000-0000-4000-8000-000000000000' } }))
        .status,
    ).toBe(404);
  });

  it('drove every documented route to a success and at least one error', () => {
    for (const route of Object.keys(doc.paths)) {
      const statuses = new Set(seen.filter((s) => s.route === route).map((s) => s.status));
      expect({ route, success: statuses.has(200), errors: [...statuses].some((s) => s >= 400) }).toEqual({
        route,
        success: true,
        errors: true,
      });
    }
  });
});

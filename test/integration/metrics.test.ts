import { randomUUID } from 'node:crypto';
import { ChargeListingDocument, ListingDocument, SendEmailDocument, SyncUserToCrmDocument } from '../generated/graphql';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { scrape, total, type Sample } from '../helpers/prometheus-text';
import { ENGINE_UNDER_TEST } from '../helpers/engine';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * Prometheus metrics of the embedded stack (issue 13): one scrape before and one after a charge,
 * a decline, a mail and a CRM sync; the counters and histograms must have moved by exactly what
 * was done, with the right labels, and no label may carry an id.
 */
let stack: TestStack;
let ada: TestUser;
let admin: TestUser;
const TOKEN = 'metrics-token-for-tests-0123456789';

beforeAll(async () => {
  stack = await startTestStack({ METRICS_TOKEN: TOKEN });
  [ada, admin] = [
    await registerUser(stack, 'Ada Metrics'),
    await registerUser(stack, 'Admin Metrics', ['user', 'admin']),
  ];
});
afterAll(() => stack?.stop());

const metricsUrl = () => stack.urls.metrics!;
const charge = (listingId: string, paymentMethodId: string) =>
  stack.graph(
    ChargeListingDocument,
    { input: { listingId, paymentMethodId, idempotencyKey: `metrics-${randomUUID()}` } },
    { token: ada.token },
  );

describe('/metrics', () => {
  it('is served on its own loopback listener, not on the public port, and only with the token', async () => {
    expect(new URL(metricsUrl()).hostname).toBe('127.0.0.1');
    expect(new URL(metricsUrl()).port).not.toBe(new URL(stack.urls.gateway).port);
    expect((await fetch(new URL('/metrics', stack.urls.gateway))).status).toBe(404);
    expect((await fetch(metricsUrl())).status).toBe(401);
    expect(
      (await fetch(metricsUrl(), { headers: { authorization: 'Bearer wrong-token-wrong-token-000' } })).status,
    ).toBe(401);
    const ok = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // Each subgraph serves its own too (the same registry in embedded mode), behind the same token.
    expect((await fetch(new URL('/metrics', stack.urls.subgraphs.listings))).status).toBe(401);
    expect(
      (
        await fetch(new URL('/metrics', stack.urls.subgraphs.listings), {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).status,
    ).toBe(200);
  });

  it('moves by what was done: a charge, a decline, a mail and a CRM sync', async () => {
    const paid = await createListing(stack, ada);
    const declined = await createListing(stack, ada);
    const before = await scrape(metricsUrl(), TOKEN);

    expect(dataOf(await charge(paid.id, 'pm_card_visa')).chargeListing.status).toBe('SUCCEEDED');
    expect(dataOf(await charge(declined.id, 'pm_card_visa_chargeDeclinedInsufficientFunds')).chargeListing.status).toBe(
      'DECLINED',
    );
    const mail = dataOf(
      await stack.graph(
        SendEmailDocument,
        {
          input: {
            userId: ada.id,
            template: 'ACCOUNT_UPDATE',
            data: { summary: 's', message: 'm' },
            idempotencyKey: `m-${randomUUID()}`,
          },
        },
        { token: admin.token },
      ),
    ).sendEmail;
    expect(['SENT', 'DELIVERED']).toContain(mail.status);
    expect(
      dataOf(await stack.graph(SyncUserToCrmDocument, { userId: ada.id }, { token: admin.token })).syncUserToCrm
        .syncStatus,
    ).toBe('SYNCED');
    expect(
      errorOf(await stack.graph(ListingDocument, { id: '00000000-0000-4000-8000-000000000000' })).extensions.code,
    ).toBe('NOT_FOUND');
    // The paid listing is ACTIVE at once (payments activates it before answering); its payment.succeeded
    // still reaches listings' consumer, which counts it: wait for a scrape that has it.
    expect(dataOf(await stack.graph(ListingDocument, { id: paid.id })).listing?.status).toBe('ACTIVE');
    const consumed = (samples: Sample[]) =>
      total(samples, 'events_consumed_total', { queue: 'listings.payment-succeeded', outcome: 'handled' });
    const after = await eventually(
      () => scrape(metricsUrl(), TOKEN),
      (samples) => consumed(samples) > consumed(before),
    );
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    // Business: one charge of each outcome, the fee charged once, in its currency.
    expect(moved('payments_charges_total', { outcome: 'succeeded' })).toBe(1);
    expect(moved('payments_charges_total', { outcome: 'declined' })).toBe(1);
    expect(moved('payments_charged_amount_total', { currency: 'USD' })).toBe(1000);
    // Providers: the two Stripe calls (the decline is a 402), the mail, and HubSpot's batch upsert, each timed.
    expect(
      moved('provider_requests_total', {
        provider: 'stripe',
        operation: 'POST /v1/payment_intents',
        status_class: '2xx',
        attempt: '1',
      }),
    ).toBe(1);
    expect(
      moved('provider_requests_total', {
        provider: 'stripe',
        operation: 'POST /v1/payment_intents',
        status_class: '4xx',
        attempt: '1',
      }),
    ).toBe(1);
    expect(moved('provider_request_duration_seconds_count', { provider: 'stripe' })).toBeGreaterThanOrEqual(2);
    expect(
      moved('provider_requests_total', { provider: 'sendgrid', operation: 'POST /v3/mail/send', status_class: '2xx' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      moved('provider_requests_total', {
        provider: 'hubspot',
        operation: 'POST /crm/v3/objects/contacts/batch/upsert',
        status_class: '2xx',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(after, 'provider_circuit_state', { provider: 'stripe', state: 'closed' })).toBe(1);
    expect(total(after, 'provider_circuit_state', { provider: 'stripe', state: 'open' })).toBe(0);
    // Mail: the account update queued and sent.
    expect(moved('email_messages_total', { kind: 'ACCOUNT', status: 'queued' })).toBe(1);
    expect(moved('email_messages_total', { kind: 'ACCOUNT', status: 'sent' })).toBe(1);
    // The gateway: four mutations answered ok, a query answered NOT_FOUND, each timed, with their phases.
    expect(
      moved('graphql_operations_total', { operation_name: 'ChargeListing', operation_type: 'mutation', outcome: 'ok' }),
    ).toBe(2);
    expect(
      moved('graphql_operations_total', { operation_name: 'SendEmail', operation_type: 'mutation', outcome: 'ok' }),
    ).toBe(1);
    expect(
      moved('graphql_operations_total', { operation_name: 'Listing', operation_type: 'query', outcome: 'NOT_FOUND' }),
    ).toBe(1);
    expect(moved('graphql_operation_duration_seconds_count', { operation_name: 'ChargeListing' })).toBe(2);
    for (const phase of ['admit', 'execute'])
      expect(
        moved('graphql_phase_duration_seconds_count', { phase, engine: ENGINE_UNDER_TEST }),
      ).toBeGreaterThanOrEqual(5);
    // Apollo validates a document once (its document cache); its planner reports every plan, cached or not.
    expect(
      moved('graphql_phase_duration_seconds_count', { phase: 'validate', engine: ENGINE_UNDER_TEST }),
    ).toBeGreaterThanOrEqual(1);
    if (ENGINE_UNDER_TEST === 'apollo')
      expect(moved('graphql_phase_duration_seconds_count', { phase: 'plan', engine: 'apollo' })).toBeGreaterThanOrEqual(
        5,
      );
    expect(
      moved('graphql_subgraph_fetch_duration_seconds_count', { subgraph: 'payments', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(2);
    expect(moved('graphql_subgraph_errors_total', { subgraph: 'listings', code: 'NOT_FOUND' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      moved('http_server_request_duration_seconds_count', {
        service: 'gateway',
        http_route: '/graphql',
        http_request_method: 'POST',
        http_response_status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(5);
    // Subgraphs: the NOT_FOUND counted where it happened; SQL timed per service; DataLoader batches.
    expect(moved('graphql_resolver_errors_total', { service: 'listings', code: 'NOT_FOUND' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      moved('db_client_operation_duration_seconds_count', { service: 'payments', db_operation_name: 'insert' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      moved('db_client_operation_duration_seconds_count', { service: 'listings', db_operation_name: 'select' }),
    ).toBeGreaterThanOrEqual(1);
    // Events: payment.succeeded and payment.failed published; listings' consumer handled the success, with its lag.
    expect(moved('events_published_total', { event: 'payment.succeeded' })).toBe(1);
    expect(moved('events_published_total', { event: 'payment.failed' })).toBe(1);
    expect(
      moved('events_consumed_total', { queue: 'listings.payment-succeeded', outcome: 'handled' }),
    ).toBeGreaterThanOrEqual(1);
    expect(moved('events_consumer_lag_seconds_count', { queue: 'listings.payment-succeeded' })).toBeGreaterThanOrEqual(
      1,
    );
    // Backlog gauges are present (read at scrape time from the database).
    for (const name of [
      'email_outbox_messages',
      'email_outbox_oldest_age_seconds',
      'crm_pending_contacts',
      'crm_pending_oldest_age_seconds',
      'crm_bulk_sync_progress_ratio',
    ]) {
      expect(after.some((s) => s.name === name)).toBe(true);
    }
    expect(total(after, 'crm_pending_contacts', { state: 'failed' })).toBe(0);

    expect(idsIn(after)).toEqual([]);
  });
});

/** Label values that look like an id (a UUID, a Stripe or HubSpot id, a long number): there must be none. */
function idsIn(samples: Sample[]): string[] {
  const id = /[0-9a-f]{8}-[0-9a-f]{4}-|^(pi|pm|re|ch|cus|evt)_[A-Za-z0-9]+$|^\d{5,}$/i;
  return [
    ...new Set(
      samples.flatMap((s) =>
        Object.entries(s.labels)
          .filter(([, v]) => id.test(v))
          .map(([k, v]) => `${s.name}{${k}="${v}"}`),
      ),
    ),
  ];
}

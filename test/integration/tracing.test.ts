import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TracedChargeDocument } from '../generated/graphql';
import { SERVICE_ATTRIBUTE, startTracing, type Tracing } from '../../lib/tracing';
import { PAYMENT_SUCCEEDED_QUEUE } from '../../subgraphs/listings/events/payment-succeeded.consumer';
import { dataOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { ENGINE_UNDER_TEST } from '../helpers/engine';
import { startTestStack, type TestStack } from '../helpers/stack';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: TestStack;
let ada: TestUser;

beforeAll(async () => {
  // Before the stack: servers and the database take their tracing hooks when they are built.
  tracing = startTracing({ service: 'saypro-graph', exporter })!;
  stack = await startTestStack({ PROVIDER_RETRY_DELAY_MS: '10', PAYMENTS_RECONCILE_INTERVAL_MS: '3600000' });
  ada = await registerUser(stack, 'Ada');
});
afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

const spans = () => exporter.getFinishedSpans();
const serviceOf = (span: ReadableSpan) => span.attributes[SERVICE_ATTRIBUTE];
const parentOf = (span: ReadableSpan, all: ReadableSpan[]) =>
  all.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId);
/** The span and its ancestors, nearest first. */
function lineage(span: ReadableSpan, all: ReadableSpan[]): ReadableSpan[] {
  const chain = [span];
  for (let parent = parentOf(span, all); parent; parent = parentOf(parent, all)) chain.push(parent);
  return chain;
}
const describeSpan = (s: ReadableSpan) => `${serviceOf(s)}:${s.name}`;

describe(`one trace per client request (${ENGINE_UNDER_TEST} engine)`, () => {
  it('follows a charge from the gateway through payments, listings and crm to SQL, Stripe, and on to the event consumer', async () => {
    const listing = await createListing(stack, ada);
    exporter.reset();

    const input = { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: `trace-${randomUUID()}` };
    const charged = dataOf(await stack.graph(TracedChargeDocument, { input }, { token: ada.token })).chargeListing;
    expect(charged).toMatchObject({ status: 'SUCCEEDED', listing: { id: listing.id, seller: { id: ada.id } } });

    // The request's server span ends just after the answer is written.
    const operation = await eventually(
      async () => spans().find((s) => s.name === 'mutation TracedCharge'),
      (s) => s !== undefined && spans().some((r) => r.spanContext().spanId === s.parentSpanContext?.spanId),
    );
    const traceId = operation!.spanContext().traceId;
    const trace = spans().filter((s) => s.spanContext().traceId === traceId);
    const request = parentOf(operation!, trace)!;
    expect({
      name: request.name,
      kind: request.kind,
      service: serviceOf(request),
      root: request.parentSpanContext === undefined,
    }).toEqual({
      name: 'POST /graphql',
      kind: SpanKind.SERVER,
      service: 'gateway',
      root: true,
    });

    // Each subgraph's server span is the direct child of the gateway's fetch to it: traceparent went along.
    const serverOf = (service: string, calledBy: string) => {
      const server = trace.find(
        (s) =>
          s.kind === SpanKind.SERVER && serviceOf(s) === service && serviceOf(parentOf(s, trace) ?? s) === calledBy,
      );
      expect(server ? describeSpan(server) : trace.map(describeSpan)).toBe(`${service}:POST /graphql`);
      const fetch = parentOf(server!, trace)!;
      expect({ kind: fetch.kind, peer: fetch.attributes['peer.service'] }).toEqual({
        kind: SpanKind.CLIENT,
        peer: service,
      });
      return { server: server!, fetch };
    };
    for (const subgraph of ['payments', 'listings', 'crm']) {
      const { fetch } = serverOf(subgraph, 'gateway');
      expect(lineage(fetch, trace)).toContain(operation);
    }
    const payments = serverOf('payments', 'gateway').server;
    // payments reads the listing from listings itself (lib/entity-client.ts), inside its own request.
    const lookup = serverOf('listings', 'payments');
    expect(lineage(lookup.fetch, trace)).toContain(payments);

    const under = (ancestor: ReadableSpan, match: (s: ReadableSpan) => boolean) =>
      trace.filter((s) => match(s) && lineage(s, trace).includes(ancestor));
    const isSql = (s: ReadableSpan) => s.attributes['db.system.name'] === 'postgresql';
    expect(under(payments, isSql).map((s) => s.name)).toEqual(expect.arrayContaining(['SELECT', 'INSERT', 'UPDATE']));
    expect(under(lookup.server, isSql).length).toBeGreaterThan(0);
    expect(
      under(payments, isSql).every(
        (s) => s.kind === SpanKind.CLIENT && typeof s.attributes['db.query.text'] === 'string',
      ),
    ).toBe(true);

    const [stripe, ...more] = under(payments, (s) => s.attributes['peer.service'] === 'stripe');
    expect(more).toHaveLength(0);
    expect({
      name: stripe?.name,
      kind: stripe?.kind,
      attempts: stripe?.events.filter((e) => e.name === 'attempt').map((e) => e.attributes?.attempt),
    }).toEqual({
      name: 'stripe charge',
      kind: SpanKind.CLIENT,
      attempts: [1],
    });
    // The attempt's own bookkeeping (attempts + 1) is SQL inside the provider span.
    expect(under(stripe!, isSql).map((s) => s.name)).toContain('UPDATE');

    // payment.succeeded carried the trace context: listings' consumer works in a trace of its own, linked back.
    const consumer = await eventually(
      async () =>
        spans().find(
          (s) => s.name === `process ${PAYMENT_SUCCEEDED_QUEUE}` && s.links.some((l) => l.context.traceId === traceId),
        ),
      (s) => s !== undefined,
    );
    expect({
      kind: consumer!.kind,
      service: serviceOf(consumer!),
      root: consumer!.parentSpanContext === undefined,
      sameTrace: consumer!.spanContext().traceId === traceId,
    }).toEqual({
      kind: SpanKind.CONSUMER,
      service: 'listings',
      root: true,
      sameTrace: false,
    });
    const publisher = trace.find((s) => s.spanContext().spanId === consumer!.links[0]!.context.spanId);
    expect(publisher && lineage(publisher, trace)).toContain(payments);
    const consumerSql = spans().filter(
      (s) => s.parentSpanContext?.spanId === consumer!.spanContext().spanId && isSql(s),
    );
    // Its inbox record (INSERT) at least; the listing itself went ACTIVE in whichever came first, payments'
    // direct activation inside the request (the usual case) or this consumer (an UPDATE here).
    expect(consumerSql.map((s) => s.name)).toContain('INSERT');

    // Log lines written inside the request carry its ids.
    const logged = stack.logs.filter((l) => l.trace_id === traceId);
    expect(logged.find((l) => l.msg === 'graphql request')).toMatchObject({
      status: 200,
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    const ids = new Set(trace.map((s) => s.spanContext().spanId));
    expect(logged.every((l) => ids.has(l.span_id as string))).toBe(true);
  });

  it('starts a trace of its own for each client request, whatever traceparent the client sent', async () => {
    exporter.reset();
    const forged = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const res = await fetch(stack.urls.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: forged },
      body: '{"query":"query Probe { __typename }"}',
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const operation = await eventually(
      async () => spans().find((s) => s.name === 'query Probe'),
      (s) => s !== undefined,
    );
    const request = await eventually(
      async () => parentOf(operation!, spans()),
      (s) => s !== undefined,
    );
    expect({
      service: serviceOf(request!),
      root: request!.parentSpanContext === undefined,
      forged: request!.spanContext().traceId === 'a'.repeat(32),
    }).toEqual({
      service: 'gateway',
      root: true,
      forged: false,
    });
  });
});

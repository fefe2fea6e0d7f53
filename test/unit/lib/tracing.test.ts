import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger } from '../../../lib/logger';
import { createProviderPolicy } from '../../../lib/resilience';
import {
  parseHeaders,
  startTracing,
  traceCall,
  traceConsume,
  traceOperation,
  traceparentField,
  type Tracing,
} from '../../../lib/tracing';

const silent = createLogger({ level: 'silent' });
const linesOf = () => {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()),
  });
  return { lines, destination };
};

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('registers nothing and adds nothing to calls, events or log lines', async () => {
    expect(startTracing({ service: 'test' })).toBeUndefined();
    let sent: Record<string, string> | undefined;
    await traceCall(
      'listings',
      { url: 'http://127.0.0.1:1/graphql' },
      async (headers) => ((sent = headers), { status: 200 }),
    );
    expect(sent).toEqual({});
    expect(traceparentField()).toEqual({});
    const { lines, destination } = linesOf();
    createLogger({ level: 'info', destination }).info('hello');
    expect(Object.keys(lines[0]!)).toEqual(['level', 'time', 'msg']);
  });
});

describe('parseHeaders', () => {
  it('reads the OTEL_EXPORTER_OTLP_HEADERS format', () => {
    expect(parseHeaders('api-key=abc%3D%3D, x-team = graph ,broken')).toEqual({
      'api-key': 'abc==',
      'x-team': 'graph',
    });
    expect(parseHeaders(undefined)).toBeUndefined();
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  beforeAll(() => {
    // librarySpans: the tests' root span comes from the global API, as a library's would.
    tracing = startTracing({ service: 'test', exporter, librarySpans: true })!;
  });
  afterAll(() => tracing.shutdown());
  beforeEach(() => exporter.reset());
  const inRoot = <T>(work: () => Promise<T>) =>
    trace.getTracer('test').startActiveSpan('root', async (span) => work().finally(() => span.end()));

  it('records one span per provider call, each attempt an event, through the policy', async () => {
    class Transient extends Error {}
    const policy = createProviderPolicy({
      provider: 'acme',
      isTransient: (e) => e instanceof Transient,
      logger: silent,
      retries: 3,
      initialDelayMs: 1,
      maxDelayMs: 2,
    });
    const answer = await inRoot(() =>
      policy.execute(async (attempt) => (attempt < 3 ? Promise.reject(new Transient('busy')) : 'ok')),
    );
    expect(answer).toBe('ok');
    const [span] = exporter.getFinishedSpans().filter((s) => s.name === 'acme');
    expect({
      kind: span?.kind,
      attempts: span?.attributes['saypro.provider.attempts'],
      events: span?.events.map((e) => [e.name, e.attributes?.attempt]),
    }).toEqual({
      kind: SpanKind.CLIENT,
      attempts: 3,
      events: [
        ['attempt', 1],
        ['attempt failed', 1],
        ['attempt', 2],
        ['attempt failed', 2],
        ['attempt', 3],
      ],
    });
  });

  it('marks a provider call that failed for good', async () => {
    const policy = createProviderPolicy({ provider: 'acme', isTransient: () => false, logger: silent });
    await expect(inRoot(() => policy.execute(() => Promise.reject(new Error('declined')), 'charge'))).rejects.toThrow(
      'declined',
    );
    const [span] = exporter.getFinishedSpans().filter((s) => s.name === 'acme charge');
    expect({ status: span?.status, operation: span?.attributes['saypro.provider.operation'] }).toEqual({
      status: { code: SpanStatusCode.ERROR, message: 'declined' },
      operation: 'charge',
    });
  });

  it('puts the active span in an event envelope and links the consumer span to it', async () => {
    let published: { traceparent?: string } = {};
    await inRoot(async () => void (published = traceparentField()));
    const root = exporter.getFinishedSpans().find((s) => s.name === 'root')!;
    expect(published.traceparent).toBe(`00-${root.spanContext().traceId}-${root.spanContext().spanId}-01`);
    await traceConsume('crm', 'crm.events', { id: 'e1', name: 'user.created', ...published }, async () => undefined);
    const consumer = exporter.getFinishedSpans().find((s) => s.name === 'process crm.events')!;
    expect(consumer.links.map((l) => l.context.spanId)).toEqual([root.spanContext().spanId]);
    expect(consumer.spanContext().traceId).not.toBe(root.spanContext().traceId);
    expect(consumer.attributes).toMatchObject({
      'saypro.service': 'crm',
      'messaging.destination.name': 'crm.events',
      'messaging.message.id': 'e1',
    });
  });

  it('writes the span ids on log lines, as trace_id/span_id or in ECS as trace.id/span.id', async () => {
    const json = linesOf();
    const ecs = linesOf();
    const logger = createLogger({ level: 'info', destination: json.destination, service: 'payments' });
    const ecsLogger = createLogger({ level: 'info', destination: ecs.destination, service: 'payments', format: 'ecs' });
    await inRoot(async () => {
      logger.info('inside');
      ecsLogger.child({ reqId: 'r1' }).error({ err: new Error('boom') }, 'inside');
    });
    logger.info('outside');
    const root = exporter
      .getFinishedSpans()
      .find((s) => s.name === 'root')!
      .spanContext();
    expect(json.lines[0]).toMatchObject({
      level: 'info',
      service: 'payments',
      trace_id: root.traceId,
      span_id: root.spanId,
      msg: 'inside',
    });
    expect(json.lines[1]).not.toHaveProperty('trace_id');
    expect(ecs.lines[0]).toMatchObject({
      'log.level': 'error',
      'service.name': 'payments',
      'trace.id': root.traceId,
      'span.id': root.spanId,
      reqId: 'r1',
      message: 'inside',
      error: { type: 'Error', message: 'boom' },
    });
    expect(ecs.lines[0]).toHaveProperty('@timestamp');
  });
});

describe('tracing on, without library spans (the default: OTEL_GATEWAY_ENGINE_SPANS=false)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  beforeAll(() => {
    tracing = startTracing({ service: 'test', exporter })!;
  });
  afterAll(() => tracing.shutdown());

  it("records our spans only; a library's span through the global API is a no-op that still carries the context", async () => {
    let sent: Record<string, string> = {};
    await traceOperation({ type: 'query', name: 'Page' }, () =>
      // What @apollo/gateway does around its fetches: an active span from the global tracer.
      trace.getTracer('@apollo/gateway').startActiveSpan('gateway.fetch', async (library) => {
        await traceCall(
          'listings',
          { url: 'http://127.0.0.1:1/graphql' },
          async (headers) => ((sent = headers), { status: 200 }),
        );
        library.end();
        return library.isRecording();
      }),
    ).then((recording) => expect(recording).toBe(false));
    const spans = exporter.getFinishedSpans();
    const operation = spans.find((s) => s.name === 'query Page')!;
    const fetch = spans.find((s) => s.name === 'POST listings')!;
    expect({
      names: spans.map((s) => s.name).sort(),
      fetchParent: fetch.parentSpanContext?.spanId,
      sameTrace: fetch.spanContext().traceId === operation.spanContext().traceId,
    }).toEqual({
      names: ['POST listings', 'query Page'],
      fetchParent: operation.spanContext().spanId,
      sameTrace: true,
    });
    expect(sent.traceparent).toBe(`00-${fetch.spanContext().traceId}-${fetch.spanContext().spanId}-01`);
  });
});

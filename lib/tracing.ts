import type http from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { Config } from './config';

/**
 * OpenTelemetry traces, by hand through @opentelemetry/api (no require hooks: tsc's CommonJS and
 * swc under jest both stay as they are). Off unless started with an endpoint or an exporter: then
 * no provider is registered and every hook below is a boolean check.
 */

export type SamplerName = Config['OTEL_TRACES_SAMPLER'];

export interface TracingOptions {
  /** `service.name` of this process's spans (embedded mode: of those no service claims). */
  service: string;
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318; spans go to `<endpoint>/v1/traces` in batches. */
  endpoint?: string;
  /** Sent with every export (a vendor's API key). */
  headers?: Record<string, string>;
  /** Export here instead, each span as it ends (tests: InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** @default parentbased_always_on */
  sampler?: SamplerName;
  /** Ratio for the `traceidratio` samplers. @default 1 */
  samplerArg?: number;
  /** Every span's `service.name` is this one, even in embedded mode (OTEL_SERVICE_NAME). */
  fixedServiceName?: boolean;
  /**
   * Register the provider globally, so that libraries tracing through the global API record too:
   * @apollo/gateway's six spans per operation (OTEL_GATEWAY_ENGINE_SPANS). Off, only our spans are
   * recorded; the context manager and propagator are global either way. @default false
   */
  librarySpans?: boolean;
}

export interface Tracing {
  /** Exports what has ended and not been sent yet. */
  flush(): Promise<void>;
  /** Flushes, then unregisters: hooks go back to doing nothing. */
  shutdown(): Promise<void>;
}

const TRACER = 'saypro-graph';
/** Which of our services a span belongs to (one process hosts all of them in embedded mode). */
export const SERVICE_ATTRIBUTE = 'saypro.service';
const SERVICE = createContextKey(SERVICE_ATTRIBUTE);
let enabled = false;
/** Our tracer, from our provider (not the global one, which libraries use). */
let ours: Tracer = trace.getTracer(TRACER);
const tracer = () => ours;

export function startTracing(options: TracingOptions): Tracing | undefined {
  if (!options.endpoint && !options.exporter) return undefined;
  const resource = resourceFromAttributes({ 'service.name': options.service });
  let exporter: SpanExporter =
    options.exporter ??
    new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/+$/, '')}/v1/traces`, headers: options.headers });
  if (!options.fixedServiceName) exporter = perServiceResource(exporter, resource);
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerOf(options.sampler ?? 'parentbased_always_on', options.samplerArg ?? 1),
    spanProcessors: [
      stampService,
      options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
    ],
  });
  if (options.librarySpans)
    provider.register(); // the global provider, AsyncLocalStorage context, W3C propagation
  else {
    // Context and propagation only: libraries that ask the global API for a tracer get no-op spans.
    // @apollo/gateway's would be six of the eleven spans of a simple page, for timings that the
    // phase metrics already have; their no-op spans carry the active context, so our fetch spans
    // are the children of the operation span.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
  }
  ours = provider.getTracer(TRACER);
  enabled = true;
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      enabled = false;
      ours = trace.getTracer(TRACER);
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The tracing the configuration asks for: OTEL_EXPORTER_OTLP_ENDPOINT set, or none. */
export function tracingFromConfig(
  config: Pick<
    Config,
    | 'OTEL_EXPORTER_OTLP_ENDPOINT'
    | 'OTEL_EXPORTER_OTLP_HEADERS'
    | 'OTEL_SERVICE_NAME'
    | 'OTEL_TRACES_SAMPLER'
    | 'OTEL_TRACES_SAMPLER_ARG'
    | 'OTEL_GATEWAY_ENGINE_SPANS'
  >,
  service: string,
) {
  return startTracing({
    service: config.OTEL_SERVICE_NAME ?? service,
    fixedServiceName: Boolean(config.OTEL_SERVICE_NAME),
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    headers: parseHeaders(config.OTEL_EXPORTER_OTLP_HEADERS),
    sampler: config.OTEL_TRACES_SAMPLER,
    samplerArg: config.OTEL_TRACES_SAMPLER_ARG,
    librarySpans: config.OTEL_GATEWAY_ENGINE_SPANS,
  });
}

/** `key=value,key2=value2`, values URL-encoded (the OTEL_EXPORTER_OTLP_HEADERS format). */
export function parseHeaders(raw: string | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  const pairs = raw
    .split(',')
    .map((pair) => pair.split('='))
    .filter(([k, ...v]) => k?.trim() && v.length);
  return Object.fromEntries(pairs.map(([k, ...v]) => [k!.trim(), decodeURIComponent(v.join('=').trim())]));
}

function samplerOf(name: SamplerName, ratio: number): Sampler {
  const root = name.endsWith('always_off')
    ? new AlwaysOffSampler()
    : name.endsWith('traceidratio')
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** Every span inherits the service of the context it starts in. */
const stampService: SpanProcessor = {
  onStart(span, parent) {
    const service = parent.getValue(SERVICE);
    if (typeof service === 'string') span.setAttribute(SERVICE_ATTRIBUTE, service);
  },
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/**
 * Embedded mode runs every service in one process, under one resource: each span is exported under
 * the `service.name` of the service it ran in, so a tracing UI shows gateway → listings → … apart.
 */
function perServiceResource(exporter: SpanExporter, base: Resource): SpanExporter {
  const resources = new Map<string, Resource>();
  const resourceOf = (service: string) => {
    let resource = resources.get(service);
    if (!resource) resources.set(service, (resource = base.merge(resourceFromAttributes({ 'service.name': service }))));
    return resource;
  };
  const renamed = (span: ReadableSpan): ReadableSpan => {
    const service = span.attributes[SERVICE_ATTRIBUTE];
    if (typeof service !== 'string' || service === base.attributes['service.name']) return span;
    return Object.create(span, { resource: { value: resourceOf(service) } }) as ReadableSpan;
  };
  return {
    export: (spans, done) => exporter.export(spans.map(renamed), done),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Runs `work` with a new span active under `parent`; a throw marks the span failed. */
async function inSpan<T>(
  name: string,
  options: SpanOptions,
  parent: Context,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

function failed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Health probes and scrapes would be a trace each, every few seconds. */
const UNTRACED = /^\/(health\/|metrics$)/;

/**
 * The server span of every HTTP request a service takes. `continueTrace`: join the caller's trace
 * from its `traceparent` (our own services calling each other); the gateway starts a trace of its
 * own per client request instead, so no client chooses trace ids or sampling. Span names carry a
 * path only when `known` says it is a route (no ids or junk paths in names).
 */
export function traceRequests<R extends http.IncomingMessage, S extends http.ServerResponse>(
  service: string | undefined,
  handler: (req: R, res: S) => Promise<void>,
  options: { continueTrace: boolean; known: (path: string) => boolean },
): (req: R, res: S) => Promise<void> {
  if (!enabled || !service) return handler;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (UNTRACED.test(path)) return handler(req, res);
    const remote = options.continueTrace ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
    const method = req.method ?? 'GET';
    const route = options.known(path) ? path : undefined;
    const attributes: Attributes = { 'http.request.method': method, ...(route ? { 'http.route': route } : {}) };
    return inSpan(
      route ? `${method} ${route}` : method,
      { kind: SpanKind.SERVER, attributes },
      remote.setValue(SERVICE, service),
      async (span) => {
        await handler(req, res);
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      },
    );
  };
}

/** A span for one GraphQL operation the gateway runs (a batch has several under one request). */
export function traceOperation<T>(operation: { type?: string; name?: string }, work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const name = [operation.type ?? 'operation', operation.name].filter(Boolean).join(' ');
  const attributes: Attributes = {
    ...(operation.type ? { 'graphql.operation.type': operation.type } : {}),
    ...(operation.name ? { 'graphql.operation.name': operation.name } : {}),
  };
  return inSpan(name, { kind: SpanKind.INTERNAL, attributes }, context.active(), () => work());
}

/**
 * A client span around an HTTP call to another of our services (a subgraph fetch, an entity
 * lookup); `send` gets the headers that carry the span's context (`traceparent`).
 */
export function traceCall<T extends { status: number }>(
  peer: string,
  request: { method?: string; url: string },
  send: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (!enabled) return send({});
  const method = request.method ?? 'POST';
  const attributes: Attributes = { 'peer.service': peer, 'http.request.method': method, 'url.full': request.url };
  return inSpan(`${method} ${peer}`, { kind: SpanKind.CLIENT, attributes }, context.active(), async (span) => {
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers);
    const answer = await send(headers);
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  });
}

/**
 * One span per provider call (Stripe, HubSpot, SendGrid) around its retries and circuit breaker:
 * `run` runs the policy over the call it is given, and each attempt is an event on the span.
 */
export function traceProviderCall<T>(
  { provider, operation }: { provider: string; operation?: string },
  call: (attempt: number) => Promise<T>,
  run: (call: (attempt: number) => Promise<T>) => Promise<T>,
): Promise<T> {
  if (!enabled) return run(call);
  const attributes: Attributes = {
    'peer.service': provider,
    'saypro.provider': provider,
    ...(operation ? { 'saypro.provider.operation': operation } : {}),
  };
  return inSpan(
    operation ? `${provider} ${operation}` : provider,
    { kind: SpanKind.CLIENT, attributes },
    context.active(),
    (span) =>
      run(async (attempt) => {
        span.setAttribute('saypro.provider.attempts', attempt);
        span.addEvent('attempt', { attempt });
        try {
          return await call(attempt);
        } catch (err) {
          span.addEvent('attempt failed', { attempt, 'error.type': (err as Error)?.name ?? typeof err });
          throw err;
        }
      }),
  );
}

/** `{ traceparent }` of the active span, to carry in an event envelope; empty when there is none. */
export function traceparentField(): { traceparent?: string } {
  if (!enabled) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? { traceparent: carrier.traceparent } : {};
}

/**
 * The consumer's span for one event: a trace of its own (the work is not part of the request,
 * which may be long over) with a link to the span that published it.
 */
export function traceConsume<T>(
  service: string,
  queue: string,
  event: { id: string; name: string; traceparent?: string },
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work();
  const published = event.traceparent
    ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent: event.traceparent }))
    : undefined;
  const links: Link[] = published && isSpanContextValid(published) ? [{ context: published }] : [];
  const attributes: Attributes = {
    'messaging.system': 'pg-boss',
    'messaging.operation.type': 'process',
    'messaging.destination.name': queue,
    'messaging.message.id': event.id,
    'saypro.event': event.name,
  };
  return inSpan(
    `process ${queue}`,
    { kind: SpanKind.CONSUMER, links, attributes },
    ROOT_CONTEXT.setValue(SERVICE, service),
    () => work(),
  );
}

/**
 * A span for one SQL statement, when a span is active (inside requests and consumers, never
 * pg-boss's polling); undefined otherwise. lib/db.ts wraps the drivers and calls the returned
 * function when the statement ends (with its error, if any). `operation` is the statement's verb.
 */
export function sqlSpan(text: string, operation: string): ((err?: unknown) => void) | undefined {
  if (!enabled) return undefined;
  const parent = context.active();
  if (!trace.getSpan(parent)) return undefined;
  const name =
    operation === 'other' ? (/^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'SQL') : operation.toUpperCase();
  const attributes: Attributes = {
    'db.system.name': 'postgresql',
    'db.operation.name': name,
    'db.query.text': text.slice(0, 2000),
  };
  const span = tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  return (err) => {
    if (err) failed(span, err);
    span.end();
  };
}

/** The active span's ids for a log line (ECS names them `trace.id` and `span.id`). */
export function logTraceFields(ecs: boolean): Record<string, string> {
  if (!enabled) return {};
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return {};
  return ecs ? { 'trace.id': span.traceId, 'span.id': span.spanId } : { trace_id: span.traceId, span_id: span.spanId };
}

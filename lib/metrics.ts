import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import client, { type Counter, type Gauge, type Histogram } from 'prom-client';

/**
 * Every Prometheus metric the services expose, in one place (prom-client, one registry per
 * process). Names follow Prometheus conventions (`_total` counters, `_seconds` durations, base
 * units) and OpenTelemetry's semantic names where one exists (`http_server_request_duration_seconds`
 * is `http.server.request.duration`, `db_client_operation_duration_seconds` is
 * `db.client.operation.duration`). Labels stay low-cardinality: codes, outcomes, service and
 * provider names, operation names from a bounded set; never a user id, a listing id or a raw path.
 *
 * In embedded mode every service runs in one process and shares this registry (the `service`
 * label tells them apart); in services mode each process exposes its own.
 */
export const registry = new client.Registry();
/**
 * METRICS_ENABLED=false turns recording off, not only the endpoint: every metric below is then a
 * no-op (what the overhead benchmark compares against). Read from the environment when this module
 * loads, as lib/telemetry.ts does, since metrics are created before any config is parsed.
 */
export const recording = !['false', '0', 'no'].includes(process.env.METRICS_ENABLED ?? '');
if (recording) client.collectDefaultMetrics({ register: registry });

const noop = { inc() {}, observe() {}, set() {}, reset() {}, startTimer: () => () => 0 };

/** Latency buckets, seconds: OpenTelemetry's HTTP advice, from 5 ms to 10 s. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Finer buckets for work that is usually sub-millisecond (parsing, SQL on PGlite). */
const FAST_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
  recording ? new client.Counter({ name, help, labelNames, registers: [registry] }) : (noop as unknown as Counter<L>);
const histogram = <L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets = SECONDS,
): Histogram<L> =>
  recording
    ? new client.Histogram({ name, help, labelNames, buckets, registers: [registry] })
    : (noop as unknown as Histogram<L>);
const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> =>
  recording ? new client.Gauge({ name, help, labelNames, registers: [registry] }) : (noop as unknown as Gauge<L>);

/**
 * A label whose values come from outside (operation names): the first `max` distinct values are
 * kept, later ones become `other`, and anything not shaped like a GraphQL name is `invalid`.
 */
export function boundedLabel(max: number, pattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/) {
  const seen = new Set<string>();
  return (value: string | null | undefined, empty = 'anonymous'): string => {
    if (!value) return empty;
    if (seen.has(value)) return value;
    if (!pattern.test(value)) return 'invalid';
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

// ------------------------------------------------------------------ gateway

export const metrics = {
  httpDuration: histogram(
    'http_server_request_duration_seconds',
    'HTTP requests served, by method, route (a fixed route name, never the raw path) and status code.',
    ['service', 'http_request_method', 'http_route', 'http_response_status_code'] as const,
  ),
  graphqlOperations: counter(
    'graphql_operations_total',
    'GraphQL operations the gateway answered, by operation name (bounded), type and outcome (ok, or the first error code).',
    ['operation_name', 'operation_type', 'outcome'] as const,
  ),
  graphqlDuration: histogram(
    'graphql_operation_duration_seconds',
    'Time from admission to answer of one GraphQL operation at the gateway.',
    ['operation_name', 'operation_type', 'outcome'] as const,
  ),
  graphqlPhase: histogram(
    'graphql_phase_duration_seconds',
    'Time the gateway spends per phase of an operation: admit (parse, limits, persisted check), validate, plan, execute.',
    ['phase', 'engine'] as const,
    FAST_SECONDS,
  ),
  subgraphFetch: histogram(
    'graphql_subgraph_fetch_duration_seconds',
    'Subgraph fetches made by the gateway, by subgraph and outcome (ok, http_<status>, network).',
    ['subgraph', 'outcome'] as const,
  ),
  subgraphErrors: counter(
    'graphql_subgraph_errors_total',
    'Errors subgraphs returned to the gateway, by subgraph and error code.',
    ['subgraph', 'code'] as const,
  ),
  refused: counter(
    'gateway_refused_total',
    'Requests and operations the gateway refused before executing them, by code (limits, rate limits, sign-in, persisted-only, CSRF).',
    ['code'] as const,
  ),

  // ---------------------------------------------------------------- subgraphs
  resolverErrors: counter('graphql_resolver_errors_total', 'Errors a subgraph returned, by service and error code.', [
    'service',
    'code',
  ] as const),
  dbDuration: histogram(
    'db_client_operation_duration_seconds',
    'SQL statements run, by service (the schema owner) and operation (select, insert, update, delete, other).',
    ['service', 'db_operation_name'] as const,
    FAST_SECONDS,
  ),
  loaderBatch: histogram(
    'dataloader_batch_size',
    'Keys per DataLoader batch, by loader.',
    ['service', 'loader'] as const,
    [1, 2, 5, 10, 20, 50, 100, 200, 500],
  ),

  // ---------------------------------------------------------------- providers
  providerCalls: counter(
    'provider_requests_total',
    'HTTP calls to a provider (Stripe, HubSpot, SendGrid), one per attempt, by operation, status class and attempt (1, 2, 3, 4+).',
    ['provider', 'operation', 'status_class', 'attempt'] as const,
  ),
  providerDuration: histogram(
    'provider_request_duration_seconds',
    'Duration of one HTTP call to a provider (an attempt), by operation and status class.',
    ['provider', 'operation', 'status_class'] as const,
  ),
  providerRetries: counter(
    'provider_retries_total',
    'Retries the provider policy scheduled after a transient failure.',
    ['provider'] as const,
  ),
  providerShortCircuits: counter(
    'provider_short_circuits_total',
    'Calls refused at once because the provider circuit was open.',
    ['provider'] as const,
  ),
  circuitTransitions: counter(
    'provider_circuit_transitions_total',
    'Circuit-breaker state changes, by the state entered (open, half_open, closed).',
    ['provider', 'state'] as const,
  ),
  circuitState: gauge(
    'provider_circuit_state',
    'Circuit-breaker state per provider: 1 for the current state (closed, open, half_open), 0 for the others.',
    ['provider', 'state'] as const,
  ),
  rateLimiterWait: histogram(
    'provider_rate_limiter_wait_seconds',
    'Time a call waited for a slot in the provider rate limiter before it was sent.',
    ['provider'] as const,
    FAST_SECONDS,
  ),

  // ---------------------------------------------------------------- business and pipelines
  charges: counter(
    'payments_charges_total',
    'Charge attempts for listings, by outcome (succeeded, declined, requires_action, unavailable, failed).',
    ['outcome'] as const,
  ),
  chargedAmount: counter(
    'payments_charged_amount_total',
    'Money charged successfully, in minor units (cents), by ISO-4217 currency.',
    ['currency'] as const,
  ),
  refunds: counter('payments_refunds_total', 'Refunds, by outcome (succeeded, failed, unavailable).', [
    'outcome',
  ] as const),
  eventsPublished: counter(
    'events_published_total',
    'Events published to the bus (once per subscribed queue counts as one publish), by event name.',
    ['event'] as const,
  ),
  eventsConsumed: counter(
    'events_consumed_total',
    'Events a consumer finished, by queue and outcome (handled, duplicate, failed).',
    ['queue', 'outcome'] as const,
  ),
  eventLag: histogram(
    'events_consumer_lag_seconds',
    'Time from an event being published to its consumer finishing it, by queue.',
    ['queue'] as const,
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  ),
  analyticsEvents: counter(
    'analytics_events_total',
    'GA4 events by name and outcome: queued, held (awaiting consent), dropped (no consent: counted, never sent), sent, validated, failed, retried.',
    ['event', 'outcome'] as const,
  ),
  mails: counter(
    'email_messages_total',
    'Mails stored in the outbox, by kind and the status they reached (queued, sent, suppressed, failed, retried).',
    ['kind', 'status'] as const,
  ),
};

// ------------------------------------------------------------------ gauges read at scrape time

type Reading = { labels?: Record<string, string>; value: number };
type Source = () => Promise<Reading[]>;

/**
 * A gauge whose value is read when Prometheus scrapes (a backlog in the database). Several
 * sources (several stacks in one test process) are combined: summed, or the largest for ages.
 */
function scrapedGauge(name: string, help: string, labelNames: readonly string[], combine: 'sum' | 'max') {
  const sources = new Set<Source>();
  if (!recording) return (_read: Source) => () => undefined;
  new client.Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      const totals = new Map<string, Reading>();
      const readings = await Promise.all([...sources].map((read) => read().catch(() => [] as Reading[])));
      for (const reading of readings.flat()) {
        const key = JSON.stringify(reading.labels ?? {});
        const seen = totals.get(key);
        totals.set(key, {
          labels: reading.labels,
          value: !seen
            ? reading.value
            : combine === 'sum'
              ? seen.value + reading.value
              : Math.max(seen.value, reading.value),
        });
      }
      for (const { labels, value } of totals.values()) labels ? this.set(labels, value) : this.set(value);
    },
  });
  /** Adds a source; the returned function removes it (on shutdown). */
  return (read: Source) => {
    sources.add(read);
    return () => void sources.delete(read);
  };
}

/** `read` shared by every gauge collected in one scrape: one query feeds several gauges. */
export function onePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => (inFlight ??= read().finally(() => (inFlight = undefined)));
}

export const scraped = {
  outboxDepth: scrapedGauge(
    'email_outbox_messages',
    'Mails in the outbox waiting for SendGrid, by status (queued, sending).',
    ['status'],
    'sum',
  ),
  outboxOldest: scrapedGauge(
    'email_outbox_oldest_age_seconds',
    'Age of the oldest mail still waiting for SendGrid (0 when none waits).',
    [],
    'max',
  ),
  analyticsBacklog: scrapedGauge(
    'analytics_outbox_events',
    'GA4 events not yet delivered, by status (queued, held awaiting consent, failed).',
    ['status'],
    'sum',
  ),
  analyticsOldest: scrapedGauge(
    'analytics_outbox_oldest_age_seconds',
    'Age of the oldest GA4 event still queued (0 when none waits).',
    [],
    'max',
  ),
  crmPending: scrapedGauge(
    'crm_pending_contacts',
    'Contacts whose changes have not reached HubSpot yet, by state (pending, failed).',
    ['state'],
    'sum',
  ),
  crmOldest: scrapedGauge(
    'crm_pending_oldest_age_seconds',
    'Age of the oldest contact change not yet in HubSpot (0 when none waits).',
    [],
    'max',
  ),
  bulkSync: scrapedGauge(
    'crm_bulk_sync_progress_ratio',
    'Progress of running CRM bulk syncs: contacts done over contacts to do (1 when none runs).',
    [],
    'max',
  ),
  indexNowBacklog: scrapedGauge(
    'seo_indexnow_urls',
    'Listing URLs not yet accepted by IndexNow, by state (pending, retrying, failed).',
    ['state'],
    'sum',
  ),
  queueDepth: scrapedGauge(
    'events_queue_depth',
    'Events waiting in each consumer queue (created or retrying), by queue.',
    ['queue'],
    'sum',
  ),
  paymentsHeld: scrapedGauge(
    'payments_held_for_review',
    'Payments held for a person to look at: a PayPal capture of another amount than was priced.',
    [],
    'sum',
  ),
  deadLetters: scrapedGauge(
    'events_dead_letters',
    'Events in each dead-letter queue, by consumer queue.',
    ['queue'],
    'sum',
  ),
};

// ------------------------------------------------------------------ helpers

/** `2xx`…`5xx` for an HTTP status; `network` when the call never got an answer. */
export const statusClassOf = (status: number | null | undefined): string =>
  status && status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'network';

/** `1`, `2`, `3`, or `4+`: attempts beyond the third are rare and need no label of their own. */
export const attemptLabel = (attempt: number): string => (attempt >= 4 ? '4+' : String(Math.max(1, attempt)));

/** Ids in a provider path become `{id}` (`/v1/payment_intents/pi_123` → `/v1/payment_intents/{id}`). */
export const routeOf = (path: string): string =>
  path
    .split('?')[0]!
    .split('/')
    .map((segment) =>
      /^v\d+$/.test(segment)
        ? segment
        : /^\d+$|^[a-z]{2,6}_[A-Za-z0-9]+$|^[0-9a-f-]{32,36}$|^(?=.*\d).{8,}$/i.test(segment)
          ? '{id}'
          : segment,
    )
    .join('/');

/** Records one provider HTTP call (an attempt); the adapters call it where they log the call. */
export function recordProviderCall(call: {
  provider: string;
  operation: string;
  status: number | null | undefined;
  durationMs: number;
  attempt: number;
  queuedMs?: number;
}): void {
  const statusClass = statusClassOf(call.status);
  metrics.providerCalls.inc({
    provider: call.provider,
    operation: call.operation,
    status_class: statusClass,
    attempt: attemptLabel(call.attempt),
  });
  metrics.providerDuration.observe(
    { provider: call.provider, operation: call.operation, status_class: statusClass },
    call.durationMs / 1000,
  );
  if (call.queuedMs !== undefined) metrics.rateLimiterWait.observe({ provider: call.provider }, call.queuedMs / 1000);
}

/** The verb of a SQL statement, as OpenTelemetry's `db.operation.name`. */
export const sqlOperationOf = (query: string): string => {
  const verb =
    /^\s*(?:with\b[\s\S]*?\)\s*)?(select|insert|update|delete)\b/i.exec(query)?.[1] ??
    /^\s*(\w+)/.exec(query)?.[1] ??
    'other';
  const lower = verb.toLowerCase();
  return ['select', 'insert', 'update', 'delete', 'begin', 'commit', 'rollback'].includes(lower) ? lower : 'other';
};

/**
 * `GET /metrics`: the exposition text. With a token set, only `Authorization: Bearer <token>`
 * gets it (401 otherwise); serve it on a port the internet cannot reach either way.
 */
export function metricsHandler(token?: string) {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(401, {
          'content-type': 'text/plain; charset=utf-8',
          'www-authenticate': 'Bearer realm="metrics"',
        });
        res.end('metrics need a bearer token\n');
        return;
      }
    }
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/**
 * The gateway's metrics listener: `/metrics` and nothing else, on its own port (METRICS_HOST,
 * loopback by default), so the public port never serves it.
 */
export function createMetricsServer(token?: string): http.Server {
  const handle = metricsHandler(token);
  return http.createServer((req, res) => {
    if (
      new URL(req.url ?? '/', 'http://localhost').pathname === '/metrics' &&
      (req.method === 'GET' || req.method === 'HEAD')
    )
      return void handle(req, res);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('only /metrics here\n');
  });
}

/** The subgraphs' `metrics` option from the config. */
export const metricsOptionsOf = (config: { METRICS_ENABLED: boolean; METRICS_TOKEN?: string }) => ({
  enabled: config.METRICS_ENABLED,
  token: config.METRICS_TOKEN,
});

export type { Counter, Gauge, Histogram };

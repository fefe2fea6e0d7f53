import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { sql } from 'drizzle-orm';
import { transactionExecutor, type Database, type DatabaseHandle, type Executor, type Transaction } from './db';
import { startEventWorker, type EventWorker } from './event-worker';
import type { Logger } from './logger';
import { metrics, onePerScrape, scraped } from './metrics';
import { traceConsume, traceparentField } from './tracing';

/**
 * The event contracts between services. Producers publish these; consumers subscribe a queue of
 * their own to the names they need (pg-boss fan-out: one job per subscribed queue).
 */
export interface EventPayloads {
  /** `addressInUse`: another account has confirmed this address (its mail says so instead of carrying a link). */
  'user.created': { userId: string; name: string; email: string; addressInUse?: boolean };
  /** When the address changed: the new one, and whether another account has confirmed it. */
  'user.updated': { userId: string; changed: string[]; email?: string; addressInUse?: boolean };
  'listing.created': {
    listingId: string;
    sellerId: string;
    status: string;
    category: string;
    priceAmount: number;
    currency: string;
  };
  'listing.updated': { listingId: string; sellerId: string; changed: string[] };
  'listing.status_changed': { listingId: string; sellerId: string; from: string; to: string };
  'payment.succeeded': {
    paymentId: string;
    listingId: string;
    userId: string;
    amount: number;
    currency: string;
    providerReference: string;
  };
  'payment.failed': { paymentId: string; listingId: string; userId: string; code: string; message: string };
  'payment.refunded': {
    paymentId: string;
    listingId: string;
    userId: string;
    amountRefunded: number;
    /** ISO-4217 currency of the payment (and of amountRefunded). */
    currency: string;
    fullyRefunded: boolean;
  };
  /** A payment arrived for a listing that can no longer go live (withdrawn meanwhile): it must be refunded. */
  'listing.payment_rejected': { listingId: string; paymentId: string; listingStatus: string };
}
export type EventName = keyof EventPayloads;
export const EVENT_NAMES = [
  'user.created',
  'user.updated',
  'listing.created',
  'listing.updated',
  'listing.status_changed',
  'payment.succeeded',
  'payment.failed',
  'payment.refunded',
  'listing.payment_rejected',
] as const satisfies readonly EventName[];

/** What a consumer receives. `id` is the idempotency key: the same event may arrive twice. */
export interface EventEnvelope<N extends EventName = EventName> {
  id: string;
  name: N;
  source: string;
  occurredAt: string;
  /** The request that caused it, for following one action through the logs. */
  requestId?: string;
  /** W3C trace context of the span that published it: the consumer's span links to it. */
  traceparent?: string;
  data: EventPayloads[N];
}

export class EventPublishError extends Error {
  constructor(event: string, queue: string) {
    super(`Event ${event} could not be queued for ${queue}: the queue does not exist`);
    this.name = 'EventPublishError';
  }
}

export interface EventBus {
  /**
   * Queues the event for every subscribed queue inside `tx`: it exists exactly when the change
   * that caused it commits. Throws (so the caller's transaction rolls back) if any send fails.
   */
  publish<N extends EventName>(
    tx: Executor,
    name: N,
    data: EventPayloads[N],
    meta?: { requestId?: string },
  ): Promise<EventEnvelope<N>>;
  /** The same bus, stamping `source` on what it publishes (one bus serves every service in embedded mode). */
  withSource(source: string): EventBus;
  /** Creates `queue` (if needed) and subscribes it to `names`. */
  subscribe(queue: string, names: readonly EventName[], options?: PgBoss.Queue): Promise<void>;
  /**
   * Subscribes `queue` to `events` and works it: each event runs `handler` in a transaction that
   * also records the event id in `<inboxSchema>.processed_events`, so a redelivered event has no
   * second effect. Failures are retried with backoff, then land in `<queue>.dead`.
   */
  consume<N extends EventName>(options: ConsumerOptions<N>): Promise<void>;
  /** Events that used up their retries, newest first, from every consumer's `<queue>.dead` (or one consumer's). */
  deadLetters(options?: { queue?: string; limit?: number }): Promise<DeadLetter[]>;
  /**
   * Puts dead events back on their consumer's queue with a fresh set of retries and removes them
   * from the dead-letter queue, in one transaction. Consumers are idempotent, so a replay of an
   * event that did get handled changes nothing. Returns how many were replayed.
   */
  replayDeadLetters(ids: readonly string[]): Promise<number>;
  /**
   * Queues a job of this service's own (not an event: no fan-out, no inbox) inside `tx`, so it
   * exists exactly when the change that asked for it commits. Worked by `work`.
   */
  enqueueJob(tx: Executor, queue: string, data: object): Promise<void>;
  /**
   * Works `queue`'s jobs one at a time with the consumers' lease and heartbeat: a job whose process
   * dies comes back within the lease; a failing one is retried with backoff up to `retryLimit`.
   * The handler must be safe to run twice for one job (at least once).
   */
  work<T extends object>(queue: string, handle: (data: T) => Promise<void>, options?: JobQueueOptions): Promise<void>;
  boss: PgBoss;
  stop(): Promise<void>;
}

/** An event a consumer gave up on. */
export interface DeadLetter {
  /** The dead-letter job's id (what replayDeadLetters takes). */
  id: string;
  /** The consumer queue it failed in. */
  queue: string;
  event: EventEnvelope;
  /** When it landed in the dead-letter queue. */
  failedAt: Date;
  /** The last failure: error class and message (cut to 300 characters). */
  error: { name?: string; message?: string } | null;
}

export interface ConsumerOptions<N extends EventName> {
  queue: string;
  events: readonly N[];
  db: Database;
  /** Schema holding this service's `processed_events` table (see its migrations). */
  inboxSchema: string;
  /** A database effect: runs in one transaction with the inbox entry, so it happens exactly once. */
  handler?: (tx: Transaction, event: EventEnvelope<N>) => Promise<void>;
  /**
   * An effect outside the database (a provider call): runs with no transaction open, and the inbox
   * entry is written after it succeeds. It may run again after a crash, so it must be idempotent
   * by the event (derive provider idempotency keys from it).
   */
  effect?: (event: EventEnvelope<N>) => Promise<void>;
  /** Attempts after the first. @default 8 */
  retryLimit?: number;
  /** First retry delay in seconds; doubles with jitter. @default 2 */
  retryDelaySeconds?: number;
  /** Jobs fetched per poll; each is completed on its own as soon as it is handled. @default 50 */
  batchSize?: number;
  /** How often an idle worker polls, seconds. @default 0.5 */
  pollingIntervalSeconds?: number;
  /** This queue's lease (pg-boss expiry, renewed by a heartbeat while handled). @default the bus's leaseSeconds */
  leaseSeconds?: number;
  /** Longest one event may take before it counts as failed, seconds. @default 120 */
  handlerTimeoutSeconds?: number;
}

export interface JobQueueOptions {
  /** Attempts after the first. @default 20 */
  retryLimit?: number;
  /** First retry delay in seconds; doubles with jitter. @default 2 */
  retryDelaySeconds?: number;
  /** Longest one job may take, seconds. @default 120 */
  handlerTimeoutSeconds?: number;
  /** How often an idle worker polls, seconds. @default 0.5 */
  pollingIntervalSeconds?: number;
}

export interface EventBusOptions {
  handle: DatabaseHandle;
  /** Service name stamped on envelopes. */
  source: string;
  logger: Logger;
  /** pg-boss schema. @default pgboss */
  schema?: string;
  /** Run pg-boss maintenance and scheduling in this process. @default true */
  supervise?: boolean;
  /**
   * How long an event a consumer took may go without its heartbeat before it is given to another
   * consumer (a killed process): the queues' expiry, also the pace of pg-boss's maintenance. @default 10
   */
  leaseSeconds?: number;
}

export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  const schema = options.schema ?? 'pgboss';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid pg-boss schema name: ${schema}`);
  const leaseSeconds = options.leaseSeconds ?? 10;
  const boss = new PgBoss({
    ...options.handle.boss,
    schema,
    supervise: options.supervise ?? true,
    // Expired jobs are failed (and so retried) by maintenance: run it often enough for the lease to hold.
    maintenanceIntervalSeconds: Math.max(1, Math.ceil(leaseSeconds / 2)),
    schedule: false,
    migrate: true,
  });
  const workers: EventWorker[] = [];
  boss.on('error', (err) => options.logger.error({ err }, 'pg-boss error'));
  await boss.start();

  const subscribersSql = `SELECT name FROM ${schema}.subscription WHERE event = $1`;

  // Backlogs for the metrics, read when Prometheus scrapes: waiting events per queue, dead ones per consumer.
  const readBacklog = onePerScrape(async () => {
    const { rows } = await transactionExecutor(options.handle.db).executeSql(
      `SELECT name, count(*)::int AS n FROM ${schema}.job WHERE state IN ('created', 'retry') GROUP BY name`,
    );
    return rows as Array<{ name: string; n: number }>;
  });
  const unregister = [
    scraped.queueDepth(async () =>
      (await readBacklog())
        .filter((r) => !r.name.endsWith('.dead'))
        .map((r) => ({ labels: { queue: r.name }, value: Number(r.n) })),
    ),
    scraped.deadLetters(async () =>
      (await readBacklog())
        .filter((r) => r.name.endsWith('.dead'))
        .map((r) => ({ labels: { queue: r.name.slice(0, -'.dead'.length) }, value: Number(r.n) })),
    ),
  ];

  /**
   * Creates `queue` unless it exists. Services starting together on one database race here: losing
   * to another process is fine, and a creation that failed for another reason (pg-boss's DDL
   * running concurrently) is tried again a few times rather than leaving the queue missing.
   */
  async function ensureQueue(queue: string, queueOptions?: PgBoss.Queue): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const existing = await boss.getQueue(queue);
      if (existing) {
        // Created by an earlier version or with other settings: bring its expiry and retries up to date.
        if (
          queueOptions &&
          (existing.expireInSeconds !== queueOptions.expireInSeconds || existing.retryLimit !== queueOptions.retryLimit)
        ) {
          await boss.updateQueue(queue, { ...queueOptions, name: queue });
        }
        return;
      }
      try {
        await boss.createQueue(queue, { ...queueOptions, name: queue });
        return;
      } catch (err) {
        if (await boss.getQueue(queue)) return;
        if (attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
      }
    }
  }

  async function subscribe(queue: string, names: readonly EventName[], queueOptions?: PgBoss.Queue): Promise<void> {
    await ensureQueue(queue, queueOptions);
    for (const name of names) await boss.subscribe(name, queue);
  }

  const view = (source: string): EventBus => ({
    boss,
    withSource: view,
    async publish(tx, name, data, meta) {
      const envelope: EventEnvelope<typeof name> = {
        id: randomUUID(),
        name,
        source,
        occurredAt: new Date().toISOString(),
        ...(meta?.requestId ? { requestId: meta.requestId } : {}),
        ...traceparentField(),
        data,
      };
      // Read subscribers through the transaction too: on PGlite's single session a query outside it would wait forever.
      const db = transactionExecutor(tx);
      const { rows } = await db.executeSql(subscribersSql, [name]);
      for (const { name: queue } of rows as Array<{ name: string }>) {
        const jobId = await boss.send(queue, envelope as unknown as object, { db });
        if (!jobId) throw new EventPublishError(name, queue);
      }
      metrics.eventsPublished.inc({ event: name });
      options.logger.debug({ event: name, eventId: envelope.id, queues: rows.length }, 'event queued');
      return envelope;
    },
    subscribe,
    async enqueueJob(tx, queue, data) {
      if (!(await boss.send(queue, data, { db: transactionExecutor(tx) }))) throw new EventPublishError('job', queue);
    },
    async work(queue, handle, jobOptions = {}) {
      await ensureQueue(queue, {
        name: queue,
        retryLimit: jobOptions.retryLimit ?? 20,
        retryDelay: jobOptions.retryDelaySeconds ?? 2,
        retryBackoff: true,
        expireInSeconds: leaseSeconds,
      });
      workers.push(
        startEventWorker({
          boss,
          schema,
          queue,
          batchSize: 1,
          pollingIntervalMs: (jobOptions.pollingIntervalSeconds ?? 0.5) * 1000,
          leaseSeconds,
          handlerTimeoutMs: (jobOptions.handlerTimeoutSeconds ?? 120) * 1000,
          logger: options.logger.child({ queue }),
          handle: (job) => handle(job.data as Parameters<typeof handle>[0]),
        }),
      );
    },
    async consume(consumer) {
      if (!/^[a-z_][a-z0-9_]*$/.test(consumer.inboxSchema))
        throw new Error(`Invalid inbox schema: ${consumer.inboxSchema}`);
      if (Boolean(consumer.handler) === Boolean(consumer.effect))
        throw new Error(`Consumer ${consumer.queue}: give exactly one of handler or effect`);
      const dead = `${consumer.queue}.dead`;
      await ensureQueue(dead);
      await subscribe(consumer.queue, consumer.events, {
        name: consumer.queue,
        retryLimit: consumer.retryLimit ?? 8,
        retryDelay: consumer.retryDelaySeconds ?? 2,
        retryBackoff: true,
        deadLetter: dead,
        expireInSeconds: consumer.leaseSeconds ?? leaseSeconds,
      });
      const inbox = sql.raw(`${consumer.inboxSchema}.processed_events`);
      const log = options.logger.child({ queue: consumer.queue });
      // A burst (e.g. a run of charges) drains at ~100 events/s; redelivered jobs are deduped by the inbox.
      // Each job succeeds or fails on its own: one poison event never drags the rest of its batch along.
      workers.push(
        startEventWorker<EventEnvelope<(typeof consumer.events)[number]>>({
          boss,
          schema,
          queue: consumer.queue,
          batchSize: consumer.batchSize ?? 50,
          pollingIntervalMs: (consumer.pollingIntervalSeconds ?? 0.5) * 1000,
          leaseSeconds: consumer.leaseSeconds ?? leaseSeconds,
          handlerTimeoutMs: (consumer.handlerTimeoutSeconds ?? 120) * 1000,
          logger: log,
          handle: (job) => traceConsume(source, consumer.queue, job.data, () => counted(job.data)),
        }),
      );
      /** Each event's outcome and lag (publish to done) in the metrics. */
      async function counted(event: EventEnvelope<(typeof consumer.events)[number]>): Promise<void> {
        try {
          const outcome = await handle(event);
          metrics.eventsConsumed.inc({ queue: consumer.queue, outcome });
          if (outcome === 'handled')
            metrics.eventLag.observe(
              { queue: consumer.queue },
              Math.max(0, Date.now() - Date.parse(event.occurredAt)) / 1000,
            );
        } catch (err) {
          metrics.eventsConsumed.inc({ queue: consumer.queue, outcome: 'failed' });
          throw err;
        }
      }
      async function handle(event: EventEnvelope<(typeof consumer.events)[number]>): Promise<'handled' | 'duplicate'> {
        const record = (t: Executor) =>
          t.execute(
            sql`insert into ${inbox} (consumer, event_id, processed_at) values (${consumer.queue}, ${event.id}, now()) on conflict do nothing returning event_id`,
          );
        if (consumer.effect) {
          const seen = await consumer.db.execute(
            sql`select 1 from ${inbox} where consumer = ${consumer.queue} and event_id = ${event.id}`,
          );
          if ((seen as unknown as { rows: unknown[] }).rows.length > 0) return 'duplicate';
          await consumer.effect(event);
          await record(consumer.db);
        } else {
          const fresh = await consumer.db.transaction(async (tx) => {
            const inserted = await record(tx);
            if ((inserted as unknown as { rows: unknown[] }).rows.length === 0) return false;
            await consumer.handler!(tx, event);
            return true;
          });
          if (!fresh) {
            log.debug({ eventId: event.id, event: event.name }, 'event already handled');
            return 'duplicate';
          }
        }
        log.debug({ eventId: event.id, event: event.name, reqId: event.requestId }, 'event handled');
        return 'handled';
      }
    },
    async deadLetters(query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const names = query.queue ? [`${query.queue}.dead`] : null;
      const { rows } = await transactionExecutor(options.handle.db).executeSql(
        `SELECT id, name, data, output, created_on FROM ${schema}.job
         WHERE state = 'created' AND ${names ? 'name = ANY($2::text[])' : "name LIKE '%.dead'"}
         ORDER BY created_on DESC, id DESC LIMIT $1`,
        names ? [limit, names] : [limit],
      );
      return (
        rows as Array<{ id: string; name: string; data: unknown; output: unknown; created_on: Date | string }>
      ).map((r) => {
        const output = (typeof r.output === 'string' ? JSON.parse(r.output) : r.output) as {
          name?: string;
          message?: string;
        } | null;
        return {
          id: r.id,
          queue: r.name.replace(/\.dead$/, ''),
          event: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as EventEnvelope,
          failedAt: new Date(r.created_on),
          error: output && (output.name || output.message) ? { name: output.name, message: output.message } : null,
        };
      });
    },
    async replayDeadLetters(ids) {
      const valid = [...new Set(ids)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      if (valid.length === 0) return 0;
      let replayed = 0;
      await options.handle.db.transaction(async (tx) => {
        const db = transactionExecutor(tx);
        const { rows } = await db.executeSql(
          `DELETE FROM ${schema}.job WHERE id = ANY($1::uuid[]) AND state = 'created' AND name LIKE '%.dead' RETURNING name, data`,
          [valid],
        );
        for (const row of rows as Array<{ name: string; data: unknown }>) {
          const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as object;
          if (!(await boss.send(row.name.replace(/\.dead$/, ''), data, { db })))
            throw new Error(`could not replay into ${row.name}`);
          replayed++;
        }
      });
      options.logger.info({ replayed }, 'dead events replayed');
      return replayed;
    },
    async stop() {
      unregister.forEach((remove) => remove());
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    },
  });
  return view(options.source);
}

import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { transactionExecutor, type DatabaseHandle, type Executor } from './db';
import type { Logger } from './logger';

/**
 * The event contracts between services. Producers publish these; consumers subscribe a queue of
 * their own to the names they need (pg-boss fan-out: one job per subscribed queue).
 */
export interface EventPayloads {
  'user.created': { userId: string; name: string; email: string };
  'user.updated': { userId: string; changed: string[] };
  'listing.created': { listingId: string; sellerId: string; status: string; category: string; priceAmount: number; currency: string };
  'listing.updated': { listingId: string; sellerId: string; changed: string[] };
  'listing.status_changed': { listingId: string; sellerId: string; from: string; to: string };
}
export type EventName = keyof EventPayloads;
export const EVENT_NAMES = [
  'user.created',
  'user.updated',
  'listing.created',
  'listing.updated',
  'listing.status_changed',
] as const satisfies readonly EventName[];

/** What a consumer receives. `id` is the idempotency key: the same event may arrive twice. */
export interface EventEnvelope<N extends EventName = EventName> {
  id: string;
  name: N;
  source: string;
  occurredAt: string;
  /** The request that caused it, for following one action through the logs. */
  requestId?: string;
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
  publish<N extends EventName>(tx: Executor, name: N, data: EventPayloads[N], meta?: { requestId?: string }): Promise<EventEnvelope<N>>;
  /** Creates `queue` (if needed) and subscribes it to `names`. */
  subscribe(queue: string, names: readonly EventName[], options?: PgBoss.Queue): Promise<void>;
  boss: PgBoss;
  stop(): Promise<void>;
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
}

export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  const schema = options.schema ?? 'pgboss';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid pg-boss schema name: ${schema}`);
  const boss = new PgBoss({
    ...options.handle.boss,
    schema,
    supervise: options.supervise ?? true,
    schedule: false,
    migrate: true,
  });
  boss.on('error', (err) => options.logger.error({ err }, 'pg-boss error'));
  await boss.start();

  const subscribersSql = `SELECT name FROM ${schema}.subscription WHERE event = $1`;

  return {
    boss,
    async publish(tx, name, data, meta) {
      const envelope: EventEnvelope<typeof name> = {
        id: randomUUID(),
        name,
        source: options.source,
        occurredAt: new Date().toISOString(),
        ...(meta?.requestId ? { requestId: meta.requestId } : {}),
        data,
      };
      // Read subscribers through the transaction too: on PGlite's single session a query outside it would wait forever.
      const db = transactionExecutor(tx);
      const { rows } = await db.executeSql(subscribersSql, [name]);
      for (const { name: queue } of rows as Array<{ name: string }>) {
        const jobId = await boss.send(queue, envelope as unknown as object, { db });
        if (!jobId) throw new EventPublishError(name, queue);
      }
      options.logger.debug({ event: name, eventId: envelope.id, queues: rows.length }, 'event queued');
      return envelope;
    },
    async subscribe(queue, names, queueOptions) {
      if (!(await boss.getQueue(queue))) {
        await boss.createQueue(queue, { name: queue, ...queueOptions }).catch(async (err: unknown) => {
          if (!(await boss.getQueue(queue))) throw err; // lost a creation race to another process: fine
        });
      }
      for (const name of names) await boss.subscribe(name, queue);
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    },
  };
}

import type PgBoss from 'pg-boss';
import type { Logger } from './logger';

export interface EventWorkerOptions<T> {
  boss: PgBoss;
  /** pg-boss's schema, for the heartbeat and release statements. */
  schema: string;
  queue: string;
  /** Jobs taken per fetch. */
  batchSize: number;
  /** How long an idle worker waits before fetching again, ms. */
  pollingIntervalMs: number;
  /**
   * The queue's expiry (pg-boss `expireInSeconds`): a job taken and neither completed nor
   * heart-beaten for this long is failed by pg-boss's maintenance and retried, so the events of a
   * killed process come back within about this long. The heartbeat runs every third of it.
   */
  leaseSeconds: number;
  /** Longest one job may run before it counts as failed (and its lease is let go), ms. */
  handlerTimeoutMs: number;
  logger: Logger;
  /** Handles one job; throwing fails that job alone (retried with backoff, then dead-lettered). */
  handle: (job: PgBoss.Job<T>) => Promise<void>;
}

export interface EventWorker {
  /** Finishes the job in hand, gives back the rest of its batch at once, and stops fetching. */
  stop(): Promise<void>;
}

/**
 * Works a pg-boss queue one job at a time, completing each job as soon as it is handled (pg-boss's
 * own `work` completes a batch only when all of it is done, so a crash mid-batch would leave the
 * finished ones to be redone and the rest stuck until their expiry). While a batch is in hand its
 * unfinished jobs are kept alive by a heartbeat, so the expiry can be short.
 */
export function startEventWorker<T>(options: EventWorkerOptions<T>): EventWorker {
  const { boss, queue, logger } = options;
  const db = boss.getDb();
  const touchSql = `UPDATE ${options.schema}.job SET started_on = now() WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`;
  // Back to `created` as it was before it was fetched: not a failure, so no retry is used up.
  const releaseSql = `UPDATE ${options.schema}.job SET state = 'created', started_on = NULL WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'active'`;
  let stopping = false;
  let wake: (() => void) | undefined;

  const quietly = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (err) {
      // The database may be away: the job stays active and comes back after its lease.
      logger.warn({ queue, error: (err as Error).message }, `event worker could not ${what}`);
    }
  };
  const withTimeout = (work: Promise<void>) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`handler took longer than ${options.handlerTimeoutMs} ms`)),
        options.handlerTimeoutMs,
      );
      work.then(resolve, reject).finally(() => clearTimeout(timer));
    });

  async function runBatch(jobs: Array<PgBoss.Job<T>>): Promise<void> {
    const unfinished = new Set(jobs.map((j) => j.id));
    const heartbeat = setInterval(
      () => {
        if (unfinished.size) void quietly('renew its lease', () => db.executeSql(touchSql, [queue, [...unfinished]]));
      },
      Math.max(250, (options.leaseSeconds * 1000) / 3),
    );
    heartbeat.unref();
    try {
      for (const job of jobs) {
        if (stopping) break;
        try {
          await withTimeout(options.handle(job));
          await quietly('complete a job', () => boss.complete(queue, job.id));
        } catch (err) {
          logger.warn({ queue, jobId: job.id, error: (err as Error).name }, 'event handler failed; will retry');
          await quietly('fail a job', () =>
            boss.fail(queue, job.id, {
              name: (err as Error).name,
              message: String((err as Error).message ?? '').slice(0, 300),
            }),
          );
        }
        unfinished.delete(job.id);
      }
    } finally {
      clearInterval(heartbeat);
      if (unfinished.size) await quietly('release jobs', () => db.executeSql(releaseSql, [queue, [...unfinished]]));
    }
  }

  const loop = (async () => {
    while (!stopping) {
      // pg-boss's fetch answers [] when the database is away, so an outage is an idle poll.
      const jobs = await boss.fetch<T>(queue, { batchSize: options.batchSize }).catch(() => [] as Array<PgBoss.Job<T>>);
      if (jobs.length > 0) {
        await runBatch(jobs);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollingIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();

  return {
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}

import { randomUUID } from 'node:crypto';
import { and, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { authorize } from '../../../lib/permissions';
import type { Database } from '../../../lib/db';
import {
  AppError,
  NotFoundError,
  PG_UNIQUE_VIOLATION,
  ProviderUnavailableError,
  ServiceUnavailableError,
  pgErrorCode,
} from '../../../lib/errors';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import type { UserDirectory } from '../../../lib/user-directory';
import { syncJobs, type SyncJobRow } from '../db/schema';
import { MAX_BATCH } from '../provider/crm-gateway.port';
import type { CrmService } from './crm.service';

export interface BulkSyncDeps {
  db: Database;
  crm: CrmService;
  users: UserDirectory;
  logger: Logger;
  /** How long a runner holds a job between pages before another process may take it over, ms. @default 120000 */
  leaseMs?: number;
  /** Wait before trying a page again after a failure without a retry hint, ms. @default 5000 */
  retryDelayMs?: number;
}

/**
 * `syncAllUsersToCrm`: walks every user in pages of 100 and upserts each page in one HubSpot call
 * (the rate limiter in the adapter paces the calls). Progress is stored after every page, so the
 * job survives restarts; an outage makes it wait and retry the same page, so nobody is skipped.
 */
export class CrmBulkSync {
  private readonly leaseMs: number;
  private readonly retryDelayMs: number;

  constructor(private readonly deps: BulkSyncDeps) {
    this.leaseMs = deps.leaseMs ?? 120_000;
    this.retryDelayMs = deps.retryDelayMs ?? 5000;
  }

  /** Starts a bulk sync, or returns the one already running (one at a time). Admins (permission crm.bulk.start). */
  async start(viewer: Viewer): Promise<SyncJobRow> {
    authorize(viewer, 'crm.bulk.start');
    const running = await this.running();
    if (running) return running;
    const { totalCount } = await this.deps.users(null, 1);
    const now = new Date();
    try {
      const [job] = await this.deps.db
        .insert(syncJobs)
        .values({
          id: randomUUID(),
          state: 'RUNNING',
          total: totalCount,
          requestedBy: isUuid(viewer.userId ?? '') ? viewer.userId : null,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      this.deps.logger.info({ jobId: job!.id, total: totalCount }, 'crm bulk sync started');
      return job!;
    } catch (err) {
      // Two admins at once: the partial unique index keeps one; the other gets the same job.
      if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) return (await this.running())!;
      throw err;
    }
  }

  /** A job by id. Admins (permission crm.bulk.read). */
  async get(viewer: Viewer, id: string): Promise<SyncJobRow> {
    authorize(viewer, 'crm.bulk.read');
    const [job] = isUuid(id) ? await this.deps.db.select().from(syncJobs).where(eq(syncJobs.id, id)) : [];
    if (!job) throw new NotFoundError('CrmSyncJob', id);
    return job;
  }

  private async running(): Promise<SyncJobRow | undefined> {
    const [job] = await this.deps.db.select().from(syncJobs).where(eq(syncJobs.state, 'RUNNING'));
    return job;
  }

  /**
   * Takes a due job that no live runner holds and works through its pages until it completes, has
   * to wait, or `stopping()` says so (shutdown: the lease is released for the next process).
   * Returns the pages processed.
   */
  async runOnce(stopping: () => boolean = () => false): Promise<number> {
    const now = new Date();
    const [job] = await this.deps.db
      .update(syncJobs)
      .set({ leaseUntil: new Date(now.getTime() + this.leaseMs), updatedAt: now })
      .where(
        and(
          eq(syncJobs.state, 'RUNNING'),
          or(isNull(syncJobs.leaseUntil), lt(syncJobs.leaseUntil, now)),
          or(isNull(syncJobs.retryAt), lte(syncJobs.retryAt, now)),
        ),
      )
      .returning();
    if (!job) return 0;
    let pages = 0;
    let cursor = job.cursor;
    try {
      for (;;) {
        if (stopping()) return pages;
        const page = await this.deps.users(cursor, MAX_BATCH);
        // Failed: what did not reach HubSpot. A contact that changed while its page was in flight did
        // reach it, and is queued again with the newer facts; one another flusher held is synced there.
        let failed = 0;
        if (page.ids.length > 0)
          failed = (await this.deps.crm.syncPage(page.ids, new Date(Date.now() + this.leaseMs))).failed;
        const finished = !page.hasNextPage;
        cursor = page.endCursor ?? cursor;
        const at = new Date();
        await this.deps.db
          .update(syncJobs)
          .set({
            done: sql`${syncJobs.done} + ${page.ids.length}`,
            failed: sql`${syncJobs.failed} + ${failed}`,
            // Users registered while the job runs make the total grow; newer ones reach the CRM by their own events.
            total: sql`greatest(${syncJobs.total}, ${syncJobs.done} + ${page.ids.length})`,
            cursor,
            retryAt: null,
            lastError: null,
            updatedAt: at,
            ...(finished
              ? { state: 'COMPLETED' as const, finishedAt: at, leaseUntil: null }
              : { leaseUntil: new Date(at.getTime() + this.leaseMs) }),
          })
          .where(eq(syncJobs.id, job.id));
        pages++;
        if (finished) {
          this.deps.logger.info({ jobId: job.id, pages }, 'crm bulk sync completed');
          return pages;
        }
      }
    } catch (err) {
      const hint = err instanceof AppError ? Number(err.extensions.retryAfterSeconds) : NaN;
      const waitMs = Number.isFinite(hint) ? Math.max(1000, hint * 1000) : this.retryDelayMs;
      const expected = err instanceof ProviderUnavailableError || err instanceof ServiceUnavailableError;
      const reason = expected ? (err as Error).message : 'unexpected error (see the logs)';
      this.deps.logger[expected ? 'warn' : 'error'](
        { jobId: job.id, pages, waitMs, error: (err as Error).name, code: err instanceof AppError ? err.code : null },
        'crm bulk sync waits before retrying its page',
      );
      await this.deps.db
        .update(syncJobs)
        .set({ retryAt: new Date(Date.now() + waitMs), lastError: reason, leaseUntil: null, updatedAt: new Date() })
        .where(eq(syncJobs.id, job.id));
      return pages;
    } finally {
      if (stopping())
        await this.deps.db
          .update(syncJobs)
          .set({ leaseUntil: null })
          .where(and(eq(syncJobs.id, job.id), eq(syncJobs.state, 'RUNNING')));
    }
  }
}

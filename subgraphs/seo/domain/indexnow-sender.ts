import { and, asc, eq, gt, inArray, isNull, lt, lte, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../../lib/db';
import { ProviderUnavailableError } from '../../../lib/errors';
import type { Logger } from '../../../lib/logger';
import { backoffDelayMs, type ProviderPolicy } from '../../../lib/resilience';
import { indexNowHosts, indexNowUrls, type IndexNowUrlRow, type PageRow } from '../db/schema';
import { IndexNowError, MAX_URLS_PER_POST, type IndexNowGateway } from '../provider/indexnow.port';

/** Why a page change is pushed to IndexNow; null when search engines have nothing new to see. */
export type SubmissionReason = 'publish' | 'change' | 'withdrawal' | 'expiry';

/**
 * A publish (ACTIVE for the first time or again), a public content change while ACTIVE (its
 * contentChangedAt moved), a withdrawal or an expiry of an ACTIVE listing. Everything else (a
 * redelivered event, a DRAFT edit, a status change that was never public) pushes nothing.
 */
export function submissionReason(
  before: Pick<PageRow, 'status' | 'contentChangedAt'> | undefined,
  after: Pick<PageRow, 'status' | 'contentChangedAt'>,
): SubmissionReason | null {
  if (after.status === 'ACTIVE') {
    if (before?.status !== 'ACTIVE') return 'publish';
    return before.contentChangedAt.getTime() !== after.contentChangedAt.getTime() ? 'change' : null;
  }
  if (before?.status !== 'ACTIVE') return null;
  if (after.status === 'WITHDRAWN') return 'withdrawal';
  if (after.status === 'EXPIRED') return 'expiry';
  return null;
}

export interface IndexNowSenderDeps {
  db: Database;
  gateway: IndexNowGateway;
  policy: ProviderPolicy;
  logger: Logger;
  /** Our IndexNow key (what the key file holds). */
  key: string;
  /** Where search engines fetch the key file, for a host (the gateway's `/<key>.txt` on the site). */
  keyLocation: (host: string) => string;
  /** How long a queued URL waits for others of its host, ms. @default 2000 */
  batchWindowMs?: number;
  /** Rejected submissions (400/403/422) before a URL is FAILED; outages and 429s only delay. @default 10 */
  maxAttempts?: number;
  /** How long a sender holds the rows it claimed, ms. @default 120000 */
  claimMs?: number;
  /** URLs per POST (the protocol allows 10,000). @default 10000 */
  maxBatch?: number;
  now?: () => Date;
}

/** What one `flush` did: URLs claimed and, of those, URLs IndexNow accepted. */
export interface FlushOutcome {
  claimed: number;
  submitted: number;
}

type Claimed = Pick<IndexNowUrlRow, 'listingId' | 'url' | 'host' | 'version' | 'attempts'>;

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 15 * 60_000;
/** A 429 without a readable Retry-After: wait this long. */
const RATE_LIMIT_WAIT_MS = 60_000;
const OPEN = ['PENDING', 'RETRYING'] as const;

/**
 * Pushes listing URLs to IndexNow. `queue` (in the transaction that changed the page, so a URL is
 * never lost) marks a listing's URL PENDING, due after the batch window; `flush` claims every open
 * URL of the first host with a due one (at most 10,000, `FOR UPDATE SKIP LOCKED`, held by
 * `claimedUntil`), sends them in one POST and records the outcome against the version it claimed.
 * Retries: the provider policy within a call; the shared stored-attempt backoff across calls; a
 * 429's Retry-After holds the whole host.
 */
export class IndexNowSender {
  private readonly windowMs: number;
  private readonly maxAttempts: number;
  private readonly claimMs: number;
  private readonly maxBatch: number;

  constructor(private readonly deps: IndexNowSenderDeps) {
    this.windowMs = deps.batchWindowMs ?? 2000;
    this.maxAttempts = deps.maxAttempts ?? 10;
    this.claimMs = deps.claimMs ?? 120_000;
    this.maxBatch = Math.min(deps.maxBatch ?? MAX_URLS_PER_POST, MAX_URLS_PER_POST);
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  /**
   * Marks the listings' URLs for submission (idempotent). A URL already waiting keeps its place and
   * its earlier due time, so a stream of edits cannot postpone it forever; each call bumps the
   * version, so a submission in flight does not mark the newer change SUBMITTED.
   */
  async queue(tx: Executor, entries: ReadonlyArray<{ listingId: string; url: string }>): Promise<void> {
    if (entries.length === 0) return;
    const now = this.now();
    const due = new Date(now.getTime() + this.windowMs);
    const t = indexNowUrls;
    const waiting = sql`${t.status} in ('PENDING', 'RETRYING')`;
    const unique = [...new Map(entries.map((e) => [e.listingId, e])).values()];
    await tx
      .insert(t)
      .values(
        unique.map((e) => ({
          listingId: e.listingId,
          url: e.url,
          host: new URL(e.url).host,
          status: 'PENDING' as const,
          attempts: 0,
          nextAttemptAt: due,
          queuedAt: now,
          version: 1,
          updatedAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: t.listingId,
        set: {
          url: sql`excluded.url`,
          host: sql`excluded.host`,
          nextAttemptAt: sql`case when ${waiting} then least(${t.nextAttemptAt}, excluded.next_attempt_at) else excluded.next_attempt_at end`,
          queuedAt: sql`case when ${waiting} then ${t.queuedAt} else excluded.queued_at end`,
          status: 'PENDING',
          attempts: 0,
          lastError: null,
          version: sql`${t.version} + 1`,
          updatedAt: now,
        },
      });
  }

  /**
   * Claims one host's batch: every open URL of the host whose oldest URL is due (fresh ones too, so
   * a burst is one POST), unless a 429 holds the host. One statement: two senders never claim a row twice.
   */
  async claim(): Promise<Claimed[]> {
    const now = this.now();
    const t = indexNowUrls;
    const unclaimed = or(isNull(t.claimedUntil), lt(t.claimedUntil, now));
    const held = this.deps.db
      .select({ host: indexNowHosts.host })
      .from(indexNowHosts)
      .where(gt(indexNowHosts.notBefore, now));
    const dueHost = this.deps.db
      .select({ host: t.host })
      .from(t)
      .where(and(inArray(t.status, OPEN), lte(t.nextAttemptAt, now), unclaimed, notInArray(t.host, held)))
      .orderBy(asc(t.nextAttemptAt))
      .limit(1);
    const batch = this.deps.db
      .select({ listingId: t.listingId })
      .from(t)
      .where(
        and(
          sql`${t.host} = (${dueHost})`,
          unclaimed,
          or(eq(t.status, 'PENDING'), and(eq(t.status, 'RETRYING'), lte(t.nextAttemptAt, now))),
        ),
      )
      .orderBy(asc(t.queuedAt))
      .limit(this.maxBatch)
      .for('update', { skipLocked: true });
    return this.deps.db
      .update(t)
      .set({ claimedUntil: new Date(now.getTime() + this.claimMs) })
      .where(inArray(t.listingId, batch))
      .returning({ listingId: t.listingId, url: t.url, host: t.host, version: t.version, attempts: t.attempts });
  }

  /** Claims one host's batch, sends it in one POST and records the outcome. */
  async flush(): Promise<FlushOutcome> {
    const claimed = await this.claim();
    if (claimed.length === 0) return { claimed: 0, submitted: 0 };
    const host = claimed[0]!.host;
    const urlList = [...new Set(claimed.map((c) => c.url))];
    try {
      await this.deps.policy.execute(
        (attempt) =>
          this.deps.gateway.submit(
            { host, key: this.deps.key, keyLocation: this.deps.keyLocation(host), urlList },
            attempt,
          ),
        'submit urls',
      );
    } catch (err) {
      await this.recordFailure(claimed, err);
      return { claimed: claimed.length, submitted: 0 };
    }
    await this.recordSubmitted(claimed);
    this.deps.logger.info({ host, urls: urlList.length }, 'urls submitted to indexnow');
    return { claimed: claimed.length, submitted: claimed.length };
  }

  /** Rows still at the version claimed (a change meanwhile leaves its row PENDING for the next batch). */
  private sameVersion(rows: Claimed[]): SQL {
    return sql`(${indexNowUrls.listingId}, ${indexNowUrls.version}) in (${sql.join(
      rows.map((r) => sql`(${r.listingId}::uuid, ${r.version}::int)`),
      sql`, `,
    )})`;
  }

  private async recordSubmitted(rows: Claimed[]): Promise<void> {
    const now = this.now();
    const t = indexNowUrls;
    await this.deps.db
      .update(t)
      .set({
        status: 'SUBMITTED',
        attempts: 0,
        lastSubmittedAt: now,
        lastSubmittedUrl: sql`${t.url}`,
        lastError: null,
        claimedUntil: null,
        updatedAt: now,
      })
      .where(this.sameVersion(rows));
    // Changed while in flight: what was sent was accepted, and the newer change is still to go.
    await this.deps.db
      .update(t)
      .set({ lastSubmittedAt: now, claimedUntil: null })
      .where(
        and(
          inArray(
            t.listingId,
            rows.map((r) => r.listingId),
          ),
          sql`not ${this.sameVersion(rows)}`,
        ),
      );
  }

  /**
   * A 429 holds the host until its Retry-After; an outage (no answer, 5xx, an open circuit) backs
   * off and retries for as long as it lasts (never FAILED: nothing is lost); a refusal backs off too
   * and is FAILED after `maxAttempts`.
   */
  private async recordFailure(rows: Claimed[], err: unknown): Promise<void> {
    const now = this.now();
    const t = indexNowUrls;
    const cause = err instanceof ProviderUnavailableError ? (err.causeError ?? err) : err;
    const release = () =>
      this.deps.db
        .update(t)
        .set({ claimedUntil: null })
        .where(
          inArray(
            t.listingId,
            rows.map((r) => r.listingId),
          ),
        );
    const host = rows[0]!.host;
    if (cause instanceof IndexNowError && cause.kind === 'rate_limited') {
      const notBefore = new Date(now.getTime() + (cause.retryAfterMs ?? RATE_LIMIT_WAIT_MS));
      await this.deps.db
        .insert(indexNowHosts)
        .values({ host, notBefore })
        .onConflictDoUpdate({ target: indexNowHosts.host, set: { notBefore } });
      await this.deps.db
        .update(t)
        .set({ status: 'RETRYING', nextAttemptAt: notBefore, lastError: cause.message, updatedAt: now })
        .where(this.sameVersion(rows));
      await release();
      this.deps.logger.warn({ host, urls: rows.length, notBefore }, 'indexnow rate limited; holding the host');
      return;
    }
    const rejected = cause instanceof IndexNowError && cause.kind === 'rejected';
    const attempts = Math.max(...rows.map((r) => r.attempts)) + 1;
    const message = ((cause as Error)?.message ?? String(cause)).slice(0, 500);
    await this.deps.db
      .update(t)
      .set({
        attempts: sql`${t.attempts} + 1`,
        status: rejected
          ? sql`case when ${t.attempts} + 1 >= ${this.maxAttempts} then 'FAILED' else 'RETRYING' end`
          : 'RETRYING',
        nextAttemptAt: new Date(now.getTime() + backoffDelayMs(attempts, FIRST_RETRY_MS, LAST_RETRY_MS)),
        lastError: message,
        updatedAt: now,
      })
      .where(this.sameVersion(rows));
    await release();
    this.deps.logger.warn(
      {
        host,
        urls: rows.length,
        attempt: attempts,
        error: (cause as Error)?.name ?? 'Error',
        status: (cause as IndexNowError).status ?? null,
      },
      rejected ? 'indexnow refused the batch' : 'indexnow unavailable; will retry',
    );
  }

  /** The submission rows of these listings, in id order (null where none was ever queued). */
  async byListingIds(ids: readonly string[]): Promise<Array<IndexNowUrlRow | null>> {
    const rows = ids.length
      ? await this.deps.db
          .select()
          .from(indexNowUrls)
          .where(inArray(indexNowUrls.listingId, [...ids]))
      : [];
    const byId = new Map(rows.map((r) => [r.listingId, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}

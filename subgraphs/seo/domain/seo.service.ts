import { and, asc, eq, gt, gte, inArray, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import type { Database } from '../../../lib/db';
import { NotFoundError } from '../../../lib/errors';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import { authorize } from '../../../lib/permissions';
import { pages, type PageRow } from '../db/schema';
import { submissionReason, type IndexNowSender } from './indexnow-sender';
import { publicContentHash, publicFieldsOf, type ListingSnapshot } from './public-listing';

/** Reads listings from their owner: results in id order, null where there is none. */
export type ListingSource = (ids: readonly string[], requestId?: string) => Promise<Array<ListingSnapshot | null>>;

/** Every listing id of one status from listings, a page at a time (its admin `listings` query). */
export type ListingDirectory = (
  status: string,
  after: string | null,
  first: number,
) => Promise<{ ids: string[]; endCursor: string | null; hasNextPage: boolean }>;

/** Listings a search engine may have seen: the statuses `rebuildSitemap` walks. */
const PUBLIC_STATUSES = ['ACTIVE', 'WITHDRAWN', 'EXPIRED'] as const;
const PAGE_SIZE = 100;

/**
 * Keeps, per listing, what search engines see. `refresh` reads the listing's current state from
 * listings (events say what changed, not to what), so redelivered or reordered events converge on
 * the same row: a read older than the stored one is ignored, and contentChangedAt moves only when
 * the public fields' hash does.
 */
export class SeoService {
  constructor(
    private readonly deps: {
      db: Database;
      source: ListingSource;
      logger: Logger;
      /** Pushes changed URLs to IndexNow; none: nothing is pushed. */
      indexNow?: IndexNowSender;
      /** For `rebuildSitemap`: every listing id, from listings. */
      directory?: ListingDirectory;
      now?: () => Date;
    },
  ) {}

  async refresh(listingId: string, requestId?: string): Promise<PageRow | null> {
    const [listing] = await this.deps.source([listingId], requestId);
    if (!listing) {
      this.deps.logger.warn({ listingId }, 'listing not found; its SEO page is left as it was');
      return null;
    }
    return this.record(listing);
  }

  /**
   * A seller was renamed: their name is on every one of their pages (the Offer's seller), so each is
   * read again from listings, 100 at a time in listing id order, and its lastmod and IndexNow follow
   * as for any public change. Returns how many pages were refreshed. Pages kept before seller ids
   * were (no seller_id yet) are not found here; `rebuildSitemap` brings them up to date.
   */
  async refreshSeller(sellerId: string, requestId?: string): Promise<number> {
    if (!isUuid(sellerId)) return 0;
    let refreshed = 0;
    let after: string | undefined;
    for (;;) {
      const ids = (
        await this.deps.db
          .select({ id: pages.listingId })
          .from(pages)
          .where(and(eq(pages.sellerId, sellerId), after ? gt(pages.listingId, after) : undefined))
          .orderBy(asc(pages.listingId))
          .limit(PAGE_SIZE)
      ).map((r) => r.id);
      if (ids.length === 0) return refreshed;
      for (const listing of await this.deps.source(ids, requestId))
        if (listing) {
          await this.record(listing);
          refreshed++;
        }
      if (ids.length < PAGE_SIZE) return refreshed;
      after = ids.at(-1);
    }
  }

  /**
   * Stores a snapshot of the listing; returns the row as it stands afterwards. In one transaction
   * with the page: its URL queued for IndexNow when search engines have something new to see.
   */
  async record(listing: ListingSnapshot): Promise<PageRow> {
    const now = (this.deps.now ?? (() => new Date()))();
    const content = publicFieldsOf(listing);
    const contentHash = publicContentHash(content);
    return this.deps.db.transaction(async (tx) => {
      const [before] = await tx
        .select({ status: pages.status, contentChangedAt: pages.contentChangedAt })
        .from(pages)
        .where(eq(pages.listingId, listing.id))
        .for('update');
      const [row] = await tx
        .insert(pages)
        .values({
          listingId: listing.id,
          status: listing.status,
          url: listing.url,
          content,
          contentHash,
          contentChangedAt: now,
          sourceUpdatedAt: listing.updatedAt,
          sellerId: listing.sellerId,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: pages.listingId,
          set: {
            status: sql`excluded.status`,
            url: sql`excluded.url`,
            content: sql`excluded.content`,
            contentChangedAt: sql`case when ${pages.contentHash} = excluded.content_hash then ${pages.contentChangedAt} else excluded.content_changed_at end`,
            contentHash: sql`excluded.content_hash`,
            sourceUpdatedAt: sql`excluded.source_updated_at`,
            sellerId: sql`excluded.seller_id`,
            updatedAt: sql`excluded.updated_at`,
          },
          setWhere: sql`${pages.sourceUpdatedAt} <= excluded.source_updated_at`,
        })
        .returning();
      if (!row) {
        // An older read than the stored one: nothing changed.
        const [current] = await tx.select().from(pages).where(eq(pages.listingId, listing.id));
        return current!;
      }
      const reason = submissionReason(before, row);
      if (reason && this.deps.indexNow) {
        await this.deps.indexNow.queue(tx, [{ listingId: row.listingId, url: row.url }]);
        this.deps.logger.debug({ listingId: row.listingId, reason }, 'listing url queued for indexnow');
      }
      return row;
    });
  }

  /** Queues one listing's URL for IndexNow again, whatever its status. Admins only. */
  async resubmit(viewer: Viewer, listingId: string): Promise<PageRow> {
    authorize(viewer, 'seo.indexnow.resubmit');
    const [page] = isUuid(listingId) ? await this.byListingIds([listingId]) : [null];
    if (!page) throw new NotFoundError('Listing', listingId);
    await this.requireSender().queue(this.deps.db, [{ listingId: page.listingId, url: page.url }]);
    return page;
  }

  /** Queues the URL of every ACTIVE page, a page of 1000 at a time (never all in memory); returns how many. Admins only. */
  async resubmitAll(viewer: Viewer): Promise<number> {
    authorize(viewer, 'seo.indexnow.resubmit');
    const sender = this.requireSender();
    let queued = 0;
    let after: string | null = null;
    for (;;) {
      const rows: Array<{ listingId: string; url: string }> = await this.deps.db
        .select({ listingId: pages.listingId, url: pages.url })
        .from(pages)
        .where(and(eq(pages.status, 'ACTIVE'), after ? gt(pages.listingId, after) : undefined))
        .orderBy(asc(pages.listingId))
        .limit(1000);
      if (rows.length === 0) break;
      await sender.queue(this.deps.db, rows);
      queued += rows.length;
      after = rows[rows.length - 1]!.listingId;
    }
    this.deps.logger.info({ queued }, 'every active listing queued for indexnow');
    return queued;
  }

  /**
   * Re-reads every listing a search engine may have seen (ACTIVE, WITHDRAWN, EXPIRED) from listings,
   * a page of 100 at a time, and refreshes its page (and IndexNow, where that changed something).
   * Returns how many listings it read. Admins only.
   */
  async rebuild(viewer: Viewer, requestId?: string): Promise<number> {
    authorize(viewer, 'seo.sitemap.rebuild');
    if (!this.deps.directory) throw new Error('rebuild needs a listing directory');
    let refreshed = 0;
    for (const status of PUBLIC_STATUSES) {
      let after: string | null = null;
      for (;;) {
        const page = await this.deps.directory(status, after, PAGE_SIZE);
        const listings = page.ids.length ? await this.deps.source(page.ids, requestId) : [];
        for (const listing of listings) if (listing) await this.record(listing), refreshed++;
        if (!page.hasNextPage || !page.endCursor) break;
        after = page.endCursor;
      }
    }
    this.deps.logger.info({ refreshed }, 'sitemap rebuilt from listings');
    return refreshed;
  }

  private requireSender(): IndexNowSender {
    if (!this.deps.indexNow) throw new Error('IndexNow is not configured for this seo service');
    return this.deps.indexNow;
  }

  /** Pages by listing id, in id order (null where none is kept). */
  async byListingIds(ids: readonly string[]): Promise<Array<PageRow | null>> {
    const rows = ids.length
      ? await this.deps.db
          .select()
          .from(pages)
          .where(inArray(pages.listingId, [...ids]))
      : [];
    const byId = new Map(rows.map((r) => [r.listingId, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * The sitemap's shards: ACTIVE pages in listing id order, `size` per shard, each with its newest
   * lastmod. One scan of the (status, listing_id) index; never the rows themselves.
   */
  async sitemapShards(size: number): Promise<Array<{ shard: number; lastmod: Date }>> {
    const result = (await this.deps.db.execute(sql`
      select shard::int as shard, (extract(epoch from max(changed)) * 1000)::float8 as ms from (
        select (row_number() over (order by ${pages.listingId}) - 1) / ${size} + 1 as shard, ${pages.contentChangedAt} as changed
        from ${pages} where ${pages.status} = 'ACTIVE'
      ) numbered group by shard order by shard`)) as unknown as {
      rows: Array<{ shard: number | string; ms: number | string }>;
    };
    return result.rows.map((r) => ({ shard: Number(r.shard), lastmod: new Date(Number(r.ms)) }));
  }

  /**
   * The URLs of shard `shard` (1-based), read in pages of `batch` by keyset (never the whole shard
   * in memory): what the sitemap route streams.
   */
  async *sitemapUrls(shard: number, size: number, batch = 1000): AsyncGenerator<{ url: string; lastmod: Date }> {
    const active = eq(pages.status, 'ACTIVE');
    const [start] = await this.deps.db
      .select({ id: pages.listingId })
      .from(pages)
      .where(active)
      .orderBy(asc(pages.listingId))
      .offset((shard - 1) * size)
      .limit(1);
    if (!start) return;
    let remaining = size;
    let after: { id: string; inclusive: boolean } = { id: start.id, inclusive: true };
    while (remaining > 0) {
      const rows = await this.deps.db
        .select({ id: pages.listingId, url: pages.url, lastmod: pages.contentChangedAt })
        .from(pages)
        .where(and(active, after.inclusive ? gte(pages.listingId, after.id) : gt(pages.listingId, after.id)))
        .orderBy(asc(pages.listingId))
        .limit(Math.min(batch, remaining));
      for (const row of rows) yield { url: row.url, lastmod: row.lastmod };
      if (rows.length < Math.min(batch, remaining)) return;
      remaining -= rows.length;
      after = { id: rows[rows.length - 1]!.id, inclusive: false };
    }
  }
}

import { and, asc, eq, gt, gte, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../../lib/db';
import type { Logger } from '../../../lib/logger';
import { pages, type PageRow } from '../db/schema';
import { publicContentHash, publicFieldsOf, type ListingSnapshot } from './public-listing';

/** Reads listings from their owner: results in id order, null where there is none. */
export type ListingSource = (ids: readonly string[], requestId?: string) => Promise<Array<ListingSnapshot | null>>;

/**
 * Keeps, per listing, what search engines see. `refresh` reads the listing's current state from
 * listings (events say what changed, not to what), so redelivered or reordered events converge on
 * the same row: a read older than the stored one is ignored, and contentChangedAt moves only when
 * the public fields' hash does.
 */
export class SeoService {
  constructor(private readonly deps: { db: Database; source: ListingSource; logger: Logger; now?: () => Date }) {}

  async refresh(listingId: string, requestId?: string): Promise<PageRow | null> {
    const [listing] = await this.deps.source([listingId], requestId);
    if (!listing) {
      this.deps.logger.warn({ listingId }, 'listing not found; its SEO page is left as it was');
      return null;
    }
    return this.record(listing);
  }

  /** Stores a snapshot of the listing; returns the row as it stands afterwards. */
  async record(listing: ListingSnapshot): Promise<PageRow> {
    const now = (this.deps.now ?? (() => new Date()))();
    const content = publicFieldsOf(listing);
    const contentHash = publicContentHash(content);
    const [row] = await this.deps.db
      .insert(pages)
      .values({
        listingId: listing.id,
        status: listing.status,
        url: listing.url,
        content,
        contentHash,
        contentChangedAt: now,
        sourceUpdatedAt: listing.updatedAt,
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
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: sql`${pages.sourceUpdatedAt} <= excluded.source_updated_at`,
      })
      .returning();
    if (row) return row;
    // An older read than the stored one: nothing changed.
    const [current] = await this.deps.db
      .select()
      .from(pages)
      .where(inArray(pages.listingId, [listing.id]));
    return current!;
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

import { inArray, sql } from 'drizzle-orm';
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
      .values({ listingId: listing.id, status: listing.status, url: listing.url, content, contentHash, contentChangedAt: now, sourceUpdatedAt: listing.updatedAt, updatedAt: now })
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
    const [current] = await this.deps.db.select().from(pages).where(inArray(pages.listingId, [listing.id]));
    return current!;
  }

  /** Pages by listing id, in id order (null where none is kept). */
  async byListingIds(ids: readonly string[]): Promise<Array<PageRow | null>> {
    const rows = ids.length ? await this.deps.db.select().from(pages).where(inArray(pages.listingId, [...ids])) : [];
    const byId = new Map(rows.map((r) => [r.listingId, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}

import { randomUUID } from 'node:crypto';
import { and, desc, eq, getTableColumns, gte, ilike, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { postingFee, type Config } from '../../../lib/config';
import type { Database, Executor, Transaction } from '../../../lib/db';
import { toCount } from '../../../lib/db';
import {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PaymentRequiredError,
} from '../../../lib/errors';
import type { EventBus } from '../../../lib/events';
import { isUuid } from '../../../lib/ids';
import { keysetAfter, toPage, type KeysetCursor, type Page } from '../../../lib/pagination';
import { listings, users, type ListingRow, type ListingStatus } from '../db/schema';
import { allows, authorize } from '../../../lib/permissions';
import { canTransition, canView, initialStatus, isEditable, publishedStatus } from './listing-lifecycle';
import type { RequestMeta } from './users.service';

export interface ListingData {
  title: string;
  description: string;
  priceAmount: number;
  currency: string;
  category: string;
  location: string;
}

export interface ListingFilter {
  category?: string | null;
  status?: ListingStatus | null;
  sellerId?: string | null;
  search?: string | null;
  minPrice?: number | null;
  maxPrice?: number | null;
}

export type ListingsConfig = Pick<
  Config,
  'POSTING_FEE_AMOUNT' | 'POSTING_FEE_CURRENCY' | 'POSTING_FEES' | 'LISTING_TTL_DAYS'
>;

const DAY_MS = 86_400_000;
const escapeLike = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`);

const after = (cursor: KeysetCursor): SQL => keysetAfter(listings.createdAt, listings.id, cursor);
const ORDER = [desc(listings.createdAt), desc(listings.id)] as const;

/** Listings: lifecycle changes (each with its event in the same transaction) and reads. */
export class ListingsService {
  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly config: ListingsConfig,
  ) {}

  async create(viewer: Viewer, data: ListingData & { draft: boolean }, meta: RequestMeta = {}): Promise<ListingRow> {
    authorize(viewer, 'listing.create');
    const sellerId = viewer.userId;
    // The caller becomes the seller: only a user can (an API key or a service is no one).
    if (sellerId === null) throw new ForbiddenError('Only a signed-in user can be a seller');
    const fee = postingFee(this.config, data.category).amount;
    const status = initialStatus({ draft: data.draft, postingFee: fee });
    const now = new Date();
    const row: ListingRow = {
      id: randomUUID(),
      sellerId,
      ...this.clean(data),
      status,
      createdAt: now,
      updatedAt: now,
      publishedAt: null,
      expiresAt: null,
      ...this.publication(status, now),
    };
    return this.db.transaction(async (tx) => {
      const [seller] = isUuid(sellerId)
        ? await tx.select({ id: users.id }).from(users).where(eq(users.id, sellerId))
        : [];
      if (!seller) throw new ForbiddenError('Register before creating listings');
      await tx.insert(listings).values(row);
      await this.bus.publish(
        tx,
        'listing.created',
        {
          listingId: row.id,
          sellerId,
          status,
          category: row.category,
          priceAmount: row.priceAmount,
          currency: row.currency,
        },
        meta,
      );
      return row;
    });
  }

  async update(viewer: Viewer, id: string, data: Partial<ListingData>, meta: RequestMeta = {}): Promise<ListingRow> {
    const changes = Object.fromEntries(
      Object.entries(this.clean(data)).filter(([, v]) => v !== undefined),
    ) as Partial<ListingData>;
    if (Object.keys(changes).length === 0)
      throw new BadUserInputError({ field: 'input', message: 'Give at least one field to change' }, 'input');
    return this.db.transaction(async (tx) => {
      const current = await this.lockForChange(tx, viewer, id);
      if (!isEditable(current.status))
        throw new ConflictError(`Listing ${id} is ${current.status} and cannot be edited`, { id });
      const changed = (Object.keys(changes) as Array<keyof ListingData>).filter((k) => changes[k] !== current[k]);
      if (changed.length === 0) return current;
      const now = new Date();
      const status = changed.includes('category') ? this.repriced(current, changes.category!) : current.status;
      const [updated] = await tx
        .update(listings)
        .set({
          ...changes,
          updatedAt: now,
          ...(status !== current.status ? { status, ...this.publication(status, now) } : {}),
        })
        .where(eq(listings.id, id))
        .returning();
      await this.bus.publish(tx, 'listing.updated', { listingId: id, sellerId: current.sellerId, changed }, meta);
      if (status !== current.status)
        await this.bus.publish(
          tx,
          'listing.status_changed',
          { listingId: id, sellerId: current.sellerId, from: current.status, to: status },
          meta,
        );
      return updated!;
    });
  }

  /**
   * The status a listing has after moving to `category` (docs/api.md: a change of category re-prices).
   * ACTIVE: a higher fee is PAYMENT_REQUIRED, since nothing can be charged on a live listing.
   * PENDING_PAYMENT: the charge takes the new fee; a free category publishes it now. Others keep theirs.
   */
  private repriced(current: ListingRow, category: string): ListingStatus {
    const fee = postingFee(this.config, category);
    if (current.status === 'ACTIVE') {
      const paid = postingFee(this.config, current.category);
      if (fee.amount > paid.amount) {
        throw new PaymentRequiredError(
          `Moving this ACTIVE listing from ${current.category} to ${category} raises its posting fee from ${paid.amount} to ${fee.amount} ${fee.currency} minor units, which cannot be charged on a live listing: withdraw it and post it again in ${category}`,
          { id: current.id, fee, paidFee: paid },
        );
      }
    }
    if (current.status === 'PENDING_PAYMENT' && fee.amount === 0) return 'ACTIVE';
    return current.status;
  }

  /** DRAFT → PENDING_PAYMENT, or ACTIVE when the category's posting fee is zero. */
  submit(viewer: Viewer, id: string, meta: RequestMeta = {}): Promise<ListingRow> {
    return this.transition(
      viewer,
      id,
      (current) => {
        if (current.status !== 'DRAFT')
          throw new ConflictError(`Only a DRAFT listing can be submitted; this one is ${current.status}`, { id });
        return publishedStatus(postingFee(this.config, current.category).amount);
      },
      meta,
    );
  }

  withdraw(viewer: Viewer, id: string, meta: RequestMeta = {}): Promise<ListingRow> {
    return this.transition(viewer, id, () => 'WITHDRAWN', meta);
  }

  /**
   * The same, at once, for payments right after a charge succeeded (`activatePaidListing`), so
   * the charge's answer already shows the listing ACTIVE. Our own services only. Anything but a
   * payable listing is left alone: the payment.succeeded consumer decides then (it asks for the
   * refund), and finds this listing already ACTIVE otherwise.
   */
  async activatePaidNow(
    viewer: Viewer,
    listingId: string,
    paid: { amount: number; currency: string },
    meta: RequestMeta = {},
  ) {
    authorize(viewer, 'listing.activate');
    return this.db.transaction(async (tx) => {
      const [current] = isUuid(listingId)
        ? await tx.select({ status: listings.status }).from(listings).where(eq(listings.id, listingId))
        : [];
      if (!current) return 'missing' as const;
      if (current.status !== 'PENDING_PAYMENT')
        return current.status === 'ACTIVE' ? ('already-active' as const) : ('not-payable' as const);
      return this.activatePaid(tx, listingId, meta, paid);
    });
  }

  /**
   * A paid listing goes live: PENDING_PAYMENT → ACTIVE with its publication period, in the caller's
   * transaction (the event consumer's). Already ACTIVE, or in any other state: nothing to do, and
   * the outcome says why so the consumer can log it.
   */
  async activatePaid(
    tx: Transaction,
    listingId: string,
    meta: RequestMeta = {},
    paid?: { amount: number; currency: string },
  ): Promise<'activated' | 'already-active' | 'not-payable' | 'underpaid' | 'missing'> {
    const [current] = isUuid(listingId)
      ? await tx.select().from(listings).where(eq(listings.id, listingId)).for('update')
      : [];
    if (!current) return 'missing';
    if (current.status === 'ACTIVE') return 'already-active';
    if (current.status !== 'PENDING_PAYMENT') return 'not-payable';
    // Moved to a dearer category after the charge began: the old fee does not buy the new one.
    const fee = postingFee(this.config, current.category);
    if (paid && (paid.amount < fee.amount || paid.currency.toUpperCase() !== fee.currency)) return 'underpaid';
    const now = new Date();
    await tx
      .update(listings)
      .set({ status: 'ACTIVE', updatedAt: now, ...this.publication('ACTIVE', now) })
      .where(eq(listings.id, listingId));
    await this.bus.publish(
      tx,
      'listing.status_changed',
      { listingId, sellerId: current.sellerId, from: current.status, to: 'ACTIVE' },
      meta,
    );
    return 'activated';
  }

  /** ACTIVE listings whose time is up become EXPIRED, one event each. Safe to run from many processes. */
  async expireDue(now = new Date()): Promise<number> {
    return this.db.transaction(async (tx) => {
      const expired = await tx
        .update(listings)
        .set({ status: 'EXPIRED', updatedAt: now })
        .where(and(eq(listings.status, 'ACTIVE'), lte(listings.expiresAt, now)))
        .returning({ id: listings.id, sellerId: listings.sellerId });
      for (const row of expired) {
        await this.bus.publish(tx, 'listing.status_changed', {
          listingId: row.id,
          sellerId: row.sellerId,
          from: 'ACTIVE',
          to: 'EXPIRED',
        });
      }
      return expired.length;
    });
  }

  async byIds(ids: readonly string[]): Promise<ListingRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(listings).where(inArray(listings.id, valid));
  }

  /** One page of the listings the viewer may see, newest first. */
  async search(viewer: Viewer, filter: ListingFilter, limit: number, cursor?: KeysetCursor): Promise<Page<ListingRow>> {
    const where = this.filterWhere(viewer, filter);
    if (where === null) return { nodes: [], hasNextPage: false };
    const rows = await this.db
      .select()
      .from(listings)
      .where(and(where, cursor ? after(cursor) : undefined))
      .orderBy(...ORDER)
      .limit(limit + 1);
    return toPage(rows, limit);
  }

  async count(viewer: Viewer, filter: ListingFilter): Promise<number> {
    const where = this.filterWhere(viewer, filter);
    if (where === null) return 0;
    const [row] = await this.db.select({ n: sql`count(*)` }).from(listings).where(where);
    return toCount(row?.n);
  }

  /**
   * First pages of several sellers' listings in one query (row_number per seller), as the viewer
   * may see them. Keys sharing `limit` and `cursor` are batched together by the loader.
   */
  async pagesBySellers(
    viewer: Viewer,
    sellerIds: readonly string[],
    limit: number,
    cursor?: KeysetCursor,
  ): Promise<Map<string, Page<ListingRow>>> {
    const valid = [...new Set(sellerIds.filter(isUuid))];
    const pages = new Map<string, Page<ListingRow>>();
    if (valid.length) {
      const ranked = this.db
        .select({
          ...getTableColumns(listings),
          rn: sql<number>`row_number() over (partition by ${listings.sellerId} order by ${listings.createdAt} desc, ${listings.id} desc)`.as(
            'rn',
          ),
        })
        .from(listings)
        .where(and(inArray(listings.sellerId, valid), this.visibleToViewer(viewer), cursor ? after(cursor) : undefined))
        .as('ranked');
      const rows = await this.db
        .select()
        .from(ranked)
        .where(lte(ranked.rn, limit + 1))
        .orderBy(ranked.sellerId, desc(ranked.createdAt), desc(ranked.id));
      const bySeller = new Map<string, ListingRow[]>();
      for (const { rn: _rn, ...row } of rows) {
        const list = bySeller.get(row.sellerId) ?? [];
        list.push(row as ListingRow);
        bySeller.set(row.sellerId, list);
      }
      for (const [sellerId, list] of bySeller) pages.set(sellerId, toPage(list, limit));
    }
    return pages;
  }

  /** How many listings each seller has that the viewer may see, in one query. */
  async countsBySellers(viewer: Viewer, sellerIds: readonly string[]): Promise<Map<string, number>> {
    const valid = [...new Set(sellerIds.filter(isUuid))];
    const counts = new Map<string, number>();
    if (valid.length === 0) return counts;
    const rows = await this.db
      .select({ sellerId: listings.sellerId, n: sql`count(*)` })
      .from(listings)
      .where(and(inArray(listings.sellerId, valid), this.visibleToViewer(viewer)))
      .groupBy(listings.sellerId);
    for (const row of rows) counts.set(row.sellerId, toCount(row.n));
    return counts;
  }

  private async transition(
    viewer: Viewer,
    id: string,
    target: (current: ListingRow) => ListingStatus,
    meta: RequestMeta,
  ): Promise<ListingRow> {
    return this.db.transaction(async (tx) => {
      const current = await this.lockForChange(tx, viewer, id);
      const to = target(current);
      if (!canTransition(current.status, to)) {
        throw new ConflictError(`Listing ${id} cannot go from ${current.status} to ${to}`, { id });
      }
      const now = new Date();
      const [updated] = await tx
        .update(listings)
        .set({ status: to, updatedAt: now, ...this.publication(to, now) })
        .where(eq(listings.id, id))
        .returning();
      await this.bus.publish(
        tx,
        'listing.status_changed',
        { listingId: id, sellerId: current.sellerId, from: current.status, to },
        meta,
      );
      return updated!;
    });
  }

  /** Locks the row for this transaction and checks that the viewer may change it. */
  private async lockForChange(tx: Executor, viewer: Viewer, id: string): Promise<ListingRow> {
    const [current] = isUuid(id) ? await tx.select().from(listings).where(eq(listings.id, id)).for('update') : [];
    // Someone who may not even see the listing learns nothing about it.
    if (!current || !canView(viewer, current)) throw new NotFoundError('Listing', id);
    authorize(viewer, 'listing.change', current.sellerId);
    return current;
  }

  /** Becoming ACTIVE starts the publication period; other statuses keep the dates they have. */
  private publication(status: ListingStatus, now: Date): Partial<Pick<ListingRow, 'publishedAt' | 'expiresAt'>> {
    if (status !== 'ACTIVE') return {};
    return { publishedAt: now, expiresAt: new Date(now.getTime() + this.config.LISTING_TTL_DAYS * DAY_MS) };
  }

  private clean<T extends Partial<ListingData>>(data: T): T {
    const out = { ...data };
    for (const key of ['title', 'description', 'location'] as const) {
      if (typeof out[key] === 'string') (out as Partial<ListingData>)[key] = (out[key] as string).trim();
    }
    if (typeof out.currency === 'string') out.currency = out.currency.toUpperCase();
    delete (out as { draft?: boolean }).draft;
    return out;
  }

  /** Everyone sees ACTIVE listings; listing.change opens every status: all listings (an admin), or the viewer's own (a seller). */
  private visibleToViewer(viewer: Viewer): SQL | undefined {
    if (allows(viewer, 'listing.change')) return undefined;
    if (viewer.userId !== null && isUuid(viewer.userId) && allows(viewer, 'listing.change', viewer.userId)) {
      return or(eq(listings.status, 'ACTIVE'), eq(listings.sellerId, viewer.userId));
    }
    return eq(listings.status, 'ACTIVE');
  }

  /** The WHERE clause for a filter as this viewer may see it; null when nothing can match. */
  private filterWhere(viewer: Viewer, filter: ListingFilter): SQL | undefined | null {
    const conditions: Array<SQL | undefined> = [];
    if (filter.minPrice != null && filter.maxPrice != null && filter.minPrice > filter.maxPrice) {
      throw new BadUserInputError(
        { field: 'minPrice', message: 'minPrice must not be greater than maxPrice' },
        'filter',
      );
    }
    if (filter.sellerId != null) {
      if (!isUuid(filter.sellerId)) return null;
      conditions.push(eq(listings.sellerId, filter.sellerId));
    }
    const seesAll = allows(viewer, 'listing.change', filter.sellerId);
    if (!seesAll) {
      if (filter.status != null && filter.status !== 'ACTIVE') return null;
      conditions.push(eq(listings.status, 'ACTIVE'));
    } else if (filter.status != null) {
      conditions.push(eq(listings.status, filter.status));
    }
    if (filter.category != null) conditions.push(eq(listings.category, filter.category));
    if (filter.minPrice != null) conditions.push(gte(listings.priceAmount, filter.minPrice));
    if (filter.maxPrice != null) conditions.push(lte(listings.priceAmount, filter.maxPrice));
    const term = filter.search?.trim();
    if (term) {
      const pattern = `%${escapeLike(term)}%`;
      conditions.push(or(ilike(listings.title, pattern), ilike(listings.description, pattern)));
    }
    return and(...conditions);
  }
}

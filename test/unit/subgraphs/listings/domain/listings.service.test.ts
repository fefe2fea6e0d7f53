import { randomUUID } from 'node:crypto';
import type { Viewer } from '../../../../../lib/auth';
import type { DatabaseHandle } from '../../../../../lib/db';
import { AppError } from '../../../../../lib/errors';
import { users } from '../../../../../subgraphs/listings/db/schema';
import { ListingsService, type ListingData } from '../../../../../subgraphs/listings/domain/listings.service';
import { recordingBus } from '../../../../helpers/fakes';
import { createTestDatabase } from '../../../../helpers/test-db';

let handle: DatabaseHandle;
let bus: ReturnType<typeof recordingBus>;
let service: ListingsService;
let seller: Viewer;
const DAY = 86_400_000;
const bike: ListingData = {
  title: 'Mountain bike',
  description: 'Hardtail',
  priceAmount: 25_000,
  currency: 'USD',
  category: 'VEHICLES',
  location: 'Cape Town',
};
const codeOf = (err: unknown) => (err instanceof AppError ? err.code : `not an AppError: ${String(err)}`);
const eventsFor = (listingId: string) =>
  bus.published
    .filter((e) => (e.data as { listingId?: string }).listingId === listingId)
    .map((e) => [e.name, (e.data as { to?: string; status?: string }).to ?? (e.data as { status?: string }).status]);

beforeAll(async () => {
  handle = await createTestDatabase();
  const id = randomUUID();
  await handle.db.insert(users).values({
    id,
    name: 'Sally Seller',
    email: `sally.${id.slice(0, 8)}@example.com`,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  seller = { userId: id, roles: ['user'] };
});
afterAll(() => handle?.close());
beforeEach(() => {
  bus = recordingBus();
  service = new ListingsService(handle.db, bus, {
    POSTING_FEE_AMOUNT: 1000,
    POSTING_FEE_CURRENCY: 'USD',
    POSTING_FEES: { JOBS: 0 },
    LISTING_TTL_DAYS: 30,
  });
});

describe('ListingsService lifecycle', () => {
  it('creates a listing that waits for its fee, a free one ACTIVE for the TTL, a draft on request; each with its event', async () => {
    const paid = await service.create(seller, { ...bike, draft: false });
    expect(paid).toMatchObject({ status: 'PENDING_PAYMENT', publishedAt: null, expiresAt: null });
    const free = await service.create(seller, { ...bike, category: 'JOBS', draft: false });
    expect(free.status).toBe('ACTIVE');
    expect(free.expiresAt!.getTime() - free.publishedAt!.getTime()).toBe(30 * DAY);
    const draft = await service.create(seller, { ...bike, draft: true });
    expect(draft.status).toBe('DRAFT');
    expect([paid, free, draft].map((l) => eventsFor(l.id))).toEqual([
      [['listing.created', 'PENDING_PAYMENT']],
      [['listing.created', 'ACTIVE']],
      [['listing.created', 'DRAFT']],
    ]);
  });

  it('refuses sellers who never registered, and changes by anyone but the seller or an admin', async () => {
    expect(
      codeOf(
        await service
          .create({ userId: randomUUID(), roles: ['user'] }, { ...bike, draft: false })
          .catch((e: unknown) => e),
      ),
    ).toBe('FORBIDDEN');
    const listing = await service.create(seller, { ...bike, draft: true });
    const stranger: Viewer = { userId: randomUUID(), roles: ['user'] };
    expect(codeOf(await service.withdraw(stranger, listing.id).catch((e: unknown) => e))).toBe('NOT_FOUND'); // a draft they may not even see
    const live = await service.create(seller, { ...bike, category: 'JOBS', draft: false });
    expect(codeOf(await service.withdraw(stranger, live.id).catch((e: unknown) => e))).toBe('FORBIDDEN');
    expect((await service.withdraw({ userId: randomUUID(), roles: ['user', 'admin'] }, listing.id)).status).toBe(
      'WITHDRAWN',
    );
    expect(codeOf(await service.update(seller, listing.id, { title: 'Renamed' }).catch((e: unknown) => e))).toBe(
      'CONFLICT',
    );
  });

  it('activates a paid listing once (a redelivered payment changes nothing) and never a withdrawn one', async () => {
    const listing = await service.create(seller, { ...bike, draft: false });
    expect(await handle.db.transaction((tx) => service.activatePaid(tx, listing.id))).toBe('activated');
    expect(await handle.db.transaction((tx) => service.activatePaid(tx, listing.id))).toBe('already-active');
    expect(eventsFor(listing.id)).toEqual([
      ['listing.created', 'PENDING_PAYMENT'],
      ['listing.status_changed', 'ACTIVE'],
    ]);
    const withdrawn = await service.create(seller, { ...bike, draft: false });
    await service.withdraw(seller, withdrawn.id);
    expect(await handle.db.transaction((tx) => service.activatePaid(tx, withdrawn.id))).toBe('not-payable');
    expect(await handle.db.transaction((tx) => service.activatePaid(tx, randomUUID()))).toBe('missing');
  });

  it('expires ACTIVE listings past their time, one event each, once', async () => {
    const free = await service.create(seller, { ...bike, category: 'JOBS', draft: false });
    const later = new Date(free.expiresAt!.getTime() + 1000);
    // A second before its time it stays (listings of earlier tests, made more than a second before, may expire then).
    await service.expireDue(new Date(free.expiresAt!.getTime() - 1000));
    expect(eventsFor(free.id)).toEqual([['listing.created', 'ACTIVE']]);
    expect(await service.expireDue(later)).toBeGreaterThanOrEqual(1);
    expect(await service.expireDue(later)).toBe(0);
    expect(eventsFor(free.id)).toEqual([
      ['listing.created', 'ACTIVE'],
      ['listing.status_changed', 'EXPIRED'],
    ]);
  });
});

import { ANONYMOUS, type Viewer } from '../../../../../lib/auth';
import { LISTING_STATUSES, type ListingStatus } from '../../../../../subgraphs/listings/db/schema';
import {
  canTransition,
  canView,
  initialStatus,
  isEditable,
  publishedStatus,
} from '../../../../../subgraphs/listings/domain/listing-lifecycle';
import { allows, PERMISSIONS, type Rule } from '../../../../../lib/permissions';

const STATUSES: ListingStatus[] = ['DRAFT', 'PENDING_PAYMENT', 'ACTIVE', 'EXPIRED', 'WITHDRAWN'];

/** The lifecycle as designed: anything not listed here is refused. */
const ALLOWED = new Set([
  'DRAFT→PENDING_PAYMENT',
  'DRAFT→ACTIVE',
  'DRAFT→WITHDRAWN',
  'PENDING_PAYMENT→ACTIVE',
  'PENDING_PAYMENT→WITHDRAWN',
  'ACTIVE→EXPIRED',
  'ACTIVE→WITHDRAWN',
  'EXPIRED→WITHDRAWN',
]);

const SELLER = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const viewers: Record<string, Viewer> = {
  anonymous: ANONYMOUS,
  owner: { userId: SELLER, roles: ['user'] },
  'other user': { userId: OTHER, roles: ['user'] },
  admin: { userId: OTHER, roles: ['user', 'admin'] },
};

it('covers every status of the schema', () => {
  expect([...LISTING_STATUSES].sort()).toEqual([...STATUSES].sort());
});

describe('canTransition', () => {
  const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to, ALLOWED.has(`${from}→${to}`)] as const));

  it('has 25 pairs, 8 of them allowed', () => {
    expect(pairs).toHaveLength(25);
    expect(pairs.filter(([, , allowed]) => allowed)).toHaveLength(8);
  });

  it.each(pairs)('%s → %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});

describe('initialStatus and publishedStatus', () => {
  it.each([
    [{ draft: true, postingFee: 0 }, 'DRAFT'],
    [{ draft: true, postingFee: 1000 }, 'DRAFT'],
    [{ draft: false, postingFee: 0 }, 'ACTIVE'],
    [{ draft: false, postingFee: 1 }, 'PENDING_PAYMENT'],
    [{ draft: false, postingFee: 1000 }, 'PENDING_PAYMENT'],
  ])('initialStatus(%j) is %s', (options, expected) => {
    expect(initialStatus(options)).toBe(expected);
  });

  it('publishes free listings straight to ACTIVE and paid ones to PENDING_PAYMENT', () => {
    expect(publishedStatus(0)).toBe('ACTIVE');
    expect(publishedStatus(1)).toBe('PENDING_PAYMENT');
    expect(publishedStatus(2500)).toBe('PENDING_PAYMENT');
  });

  it('only produces statuses a draft may move to', () => {
    for (const fee of [0, 1000]) expect(canTransition('DRAFT', publishedStatus(fee))).toBe(true);
  });
});

describe('isEditable', () => {
  it.each(STATUSES.map((status) => [status, status !== 'WITHDRAWN'] as const))('%s: %s', (status, editable) => {
    expect(isEditable(status)).toBe(editable);
  });
});

describe("listing.change, the table's rule behind every change and every non-ACTIVE view", () => {
  it.each([
    ['anonymous', false],
    ['owner', true],
    ['other user', false],
    ['admin', true],
  ] as const)('%s: %s', (who, expected) => {
    expect(allows(viewers[who]!, 'listing.change', SELLER)).toBe(expected);
  });

  it('never matches an anonymous viewer, whatever the seller id', () => {
    expect(allows(ANONYMOUS, 'listing.change', null)).toBe(false);
    expect(allows(ANONYMOUS, 'listing.change', '')).toBe(false);
  });
});

describe('canView', () => {
  const cases = Object.keys(viewers).flatMap((who) =>
    STATUSES.map((status) => [who, status, status === 'ACTIVE' || who === 'owner' || who === 'admin'] as const),
  );

  it.each(cases)('%s viewing a %s listing: %s', (who, status, expected) => {
    expect(canView(viewers[who]!, { status, sellerId: SELLER })).toBe(expected);
  });

  it('follows the table: open listing.change to any user and everyone sees every status', () => {
    const rule: Rule = PERMISSIONS['listing.change'];
    rule.user = true;
    try {
      expect(canView(viewers['other user']!, { status: 'DRAFT', sellerId: SELLER })).toBe(true);
    } finally {
      rule.user = false;
    }
    expect(canView(viewers['other user']!, { status: 'DRAFT', sellerId: SELLER })).toBe(false);
  });
});

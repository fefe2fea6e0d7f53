import { sql } from 'drizzle-orm';
import {
  ConfirmEmailDocument,
  CreateListingDocument,
  ListingDocument,
  ListingsCountDocument,
  ListingsPageDocument,
  RegisterUserDocument,
  SubmitListingDocument,
  UpdateListingDocument,
  UpdateUserDocument,
  UserDocument,
  ViewerDocument,
  WithdrawListingDocument,
} from '../generated/graphql';
import { mintToken } from '../../lib/auth';
import { signEmailConfirmation } from '../../lib/email-confirmation';
import { toCount } from '../../lib/db';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, listingInput, registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let ada: TestUser;
let bob: TestUser;
let admin: TestUser;

const count = async (table: 'users' | 'listings') => {
  const result = (await stack.handle.db.execute(sql.raw(`select count(*) as n from listings.${table}`))) as unknown as {
    rows: Array<{ n: unknown }>;
  };
  return toCount(result.rows[0]!.n);
};

beforeAll(async () => {
  // JOBS listings are free: they go ACTIVE at once, which lets these tests see public listings.
  stack = await startTestStack({ POSTING_FEES: '{"JOBS":0}' });
  ada = await registerUser(stack, 'Ada');
  bob = await registerUser(stack, 'Bob');
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());

describe('users', () => {
  it('registers a user and shows the email only to that user and admins', async () => {
    const { user } = dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: bob.token }));
    expect(user).toMatchObject({ id: ada.id, name: 'Ada', email: null });
    expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: ada.token })).user.email).toBe(ada.email);
    expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: admin.token })).user.email).toBe(ada.email);
    expect(dataOf(await stack.graph(ViewerDocument, {}, { token: ada.token })).viewer).toMatchObject({
      id: ada.id,
      email: ada.email,
    });
    expect(dataOf(await stack.graph(ViewerDocument, {})).viewer).toBeNull();
  });

  it('registers a confirmed address (any case) again as an unconfirmed one: the answer does not say it is taken, and it can never be confirmed', async () => {
    const before = await count('users');
    const { registerUser: copy } = dataOf(
      await stack.graph(RegisterUserDocument, { input: { name: 'Copy', email: ada.email.toUpperCase() } }),
    );
    expect(await count('users')).toBe(before + 1);
    const confirm = await stack.graph(ConfirmEmailDocument, {
      token: signEmailConfirmation(copy.id, ada.email.toUpperCase(), stack.config.INTERNAL_SECRET),
    });
    expect(errorOf(confirm).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: ada.token })).user).toMatchObject({
      email: ada.email,
      emailVerified: true,
    });
  });

  it('validates name and email, naming each field', async () => {
    const result = await stack.graph(RegisterUserDocument, { input: { name: '   ', email: 'not-an-email' } });
    const error = errorOf(result);
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect((error.extensions.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['email', 'name']);
    expect(JSON.stringify(result.errors)).not.toMatch(/stack|at .*\.ts/);
  });

  it('links a signed-in identity that is not registered yet, once', async () => {
    const subject = '0b7a4a8e-3f65-4a39-9a43-0d2b1a2c3d4e';
    const token = await stack.token(subject);
    const { registerUser: user } = dataOf(
      await stack.graph(RegisterUserDocument, { input: { name: 'Linked', email: 'linked@example.com' } }, { token }),
    );
    expect(user.id).toBe(subject);
    const again = await stack.graph(
      RegisterUserDocument,
      { input: { name: 'Linked', email: 'linked2@example.com' } },
      { token },
    );
    expect(errorOf(again).extensions.code).toBe('CONFLICT');
  });

  it('lets users change their own profile, not anyone else’s', async () => {
    const { updateUser } = dataOf(
      await stack.graph(UpdateUserDocument, { id: bob.id, input: { name: 'Robert' } }, { token: bob.token }),
    );
    expect(updateUser.name).toBe('Robert');
    const denied = await stack.graph(
      UpdateUserDocument,
      { id: ada.id, input: { name: 'Hacked' } },
      { token: bob.token },
    );
    expect(errorOf(denied).extensions.code).toBe('FORBIDDEN');
    const anon = await stack.graph(UpdateUserDocument, { id: ada.id, input: { name: 'Hacked' } });
    expect(errorOf(anon).extensions.code).toBe('FORBIDDEN');
    expect(dataOf(await stack.graph(UserDocument, { id: ada.id })).user.name).toBe('Ada');
  });

  it('holds an address another account confirmed unconfirmed, and never lets it be confirmed twice', async () => {
    const carl = await registerUser(stack, 'Carl');
    // The answer does not say the address is taken (the mail to it does): see the security suite's enumeration test.
    const { updateUser } = dataOf(
      await stack.graph(UpdateUserDocument, { id: carl.id, input: { email: ada.email } }, { token: carl.token }),
    );
    expect(updateUser).toMatchObject({ id: carl.id, email: ada.email });
    const confirm = await stack.graph(ConfirmEmailDocument, {
      token: signEmailConfirmation(carl.id, ada.email, stack.config.INTERNAL_SECRET),
    });
    expect(errorOf(confirm).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    expect(errorOf(confirm).message).toMatch(/confirmed for another SayPro account/);
    expect(dataOf(await stack.graph(UserDocument, { id: carl.id }, { token: carl.token })).user).toMatchObject({
      email: ada.email,
      emailVerified: false,
    });
  });

  it('answers NOT_FOUND for an unknown or malformed user id', async () => {
    expect(
      errorOf(await stack.graph(UserDocument, { id: '00000000-0000-4000-8000-000000000000' })).extensions.code,
    ).toBe('NOT_FOUND');
    expect(errorOf(await stack.graph(UserDocument, { id: "1' OR '1'='1" })).extensions.code).toBe('NOT_FOUND');
  });
});

describe('listings', () => {
  it('creates a paid-category listing as PENDING_PAYMENT, normalising the currency', async () => {
    const listing = await createListing(stack, ada, { price: { amount: 15_000, currency: 'usd' } });
    expect(listing).toMatchObject({
      status: 'PENDING_PAYMENT',
      price: { amount: 15_000, currency: 'USD' },
      seller: { id: ada.id },
      publishedAt: null,
    });
  });

  it('creates a free-category listing as ACTIVE with an expiry, and a draft as DRAFT', async () => {
    const free = await createListing(stack, ada, { category: 'JOBS', title: 'Barista wanted' });
    expect(free.status).toBe('ACTIVE');
    expect(new Date(free.expiresAt!).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const draft = await createListing(stack, ada, { draft: true });
    expect(draft.status).toBe('DRAFT');
    const submitted = dataOf(
      await stack.graph(SubmitListingDocument, { id: draft.id }, { token: ada.token }),
    ).submitListing;
    expect(submitted.status).toBe('PENDING_PAYMENT');
    const again = await stack.graph(SubmitListingDocument, { id: draft.id }, { token: ada.token });
    expect(errorOf(again).extensions.code).toBe('CONFLICT');
  });

  it('refuses bad input with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const before = await count('listings');
    const cases: Array<[Parameters<typeof listingInput>[0], string]> = [
      [{ title: 'ab' }, 'title'],
      [{ title: 'x'.repeat(121) }, 'title'],
      [{ description: '' }, 'description'],
      [{ price: { amount: -1, currency: 'USD' } }, 'price.amount'],
      [{ price: { amount: 100, currency: 'DOLLARS' } }, 'price.currency'],
      [{ price: { amount: 100, currency: 'ZZZ' } }, 'price.currency'],
      [{ location: '  ' }, 'location'],
    ];
    for (const [overrides, field] of cases) {
      const result = await stack.graph(CreateListingDocument, { input: listingInput(overrides) }, { token: ada.token });
      expect(errorOf(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    // A float where an Int belongs is refused by GraphQL itself, before any resolver.
    const floaty = await stack.graph(
      CreateListingDocument,
      { input: listingInput({ price: { amount: 10.5, currency: 'USD' } }) },
      { token: ada.token },
    );
    expect(floaty.status).toBe(400);
    expect(errorOf(floaty).extensions.code).toBe('BAD_USER_INPUT');
    expect(await count('listings')).toBe(before);
  });

  it('needs a registered, signed-in user to create or change listings', async () => {
    const before = await count('listings');
    expect(errorOf(await stack.graph(CreateListingDocument, { input: listingInput() })).extensions.code).toBe(
      'FORBIDDEN',
    );
    const ghost = await stack.token('11111111-1111-4111-8111-111111111111');
    expect(
      errorOf(await stack.graph(CreateListingDocument, { input: listingInput() }, { token: ghost })).extensions.code,
    ).toBe('FORBIDDEN');
    const mine = await createListing(stack, ada, { category: 'JOBS' });
    expect(
      errorOf(await stack.graph(UpdateListingDocument, { id: mine.id, input: { title: 'Anon edit' } })).extensions.code,
    ).toBe('FORBIDDEN');
    expect(errorOf(await stack.graph(WithdrawListingDocument, { id: mine.id })).extensions.code).toBe('FORBIDDEN');
    expect(await count('listings')).toBe(before + 1);
  });

  it('refuses a malformed, forged or expired token with UNAUTHENTICATED instead of treating it as anonymous', async () => {
    const forged = await mintToken({ secret: 'another-secret-of-at-least-32-characters!!', userId: ada.id });
    const expired = await mintToken({ secret: stack.config.JWT_SECRET, userId: ada.id, expiresIn: -60 });
    for (const authorization of [
      'Bearer not-a-jwt',
      `Bearer ${forged}`,
      `Bearer ${expired}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
    ]) {
      const result = await stack.graph(ListingsPageDocument, {}, { headers: { authorization } });
      expect(result.status).toBe(401);
      expect(errorOf(result).extensions.code).toBe('UNAUTHENTICATED');
      expect(result.data ?? null).toBeNull();
    }
  });

  it('lets only the seller or an admin change a listing', async () => {
    const listing = await createListing(stack, ada, { category: 'JOBS' });
    const denied = await stack.graph(
      UpdateListingDocument,
      { id: listing.id, input: { title: 'Stolen' } },
      { token: bob.token },
    );
    expect(errorOf(denied).extensions.code).toBe('FORBIDDEN');
    expect(
      errorOf(await stack.graph(WithdrawListingDocument, { id: listing.id }, { token: bob.token })).extensions.code,
    ).toBe('FORBIDDEN');
    expect(dataOf(await stack.graph(ListingDocument, { id: listing.id })).listing.title).toBe(listing.title);

    const edited = dataOf(
      await stack.graph(
        UpdateListingDocument,
        { id: listing.id, input: { title: 'Senior barista', price: { amount: 99, currency: 'EUR' } } },
        { token: ada.token },
      ),
    );
    expect(edited.updateListing).toMatchObject({ title: 'Senior barista', price: { amount: 99, currency: 'EUR' } });
    const byAdmin = dataOf(
      await stack.graph(
        UpdateListingDocument,
        { id: listing.id, input: { location: 'Durban' } },
        { token: admin.token },
      ),
    );
    expect(byAdmin.updateListing.location).toBe('Durban');
  });

  it('hides non-ACTIVE listings from everyone but the seller and admins', async () => {
    const pending = await createListing(stack, ada);
    expect(errorOf(await stack.graph(ListingDocument, { id: pending.id }, { token: bob.token })).extensions.code).toBe(
      'NOT_FOUND',
    );
    expect(errorOf(await stack.graph(ListingDocument, { id: pending.id })).extensions.code).toBe('NOT_FOUND');
    // Bob cannot even learn that it exists by trying to change it.
    expect(
      errorOf(await stack.graph(WithdrawListingDocument, { id: pending.id }, { token: bob.token })).extensions.code,
    ).toBe('NOT_FOUND');
    expect(dataOf(await stack.graph(ListingDocument, { id: pending.id }, { token: ada.token })).listing.status).toBe(
      'PENDING_PAYMENT',
    );
    expect(dataOf(await stack.graph(ListingDocument, { id: pending.id }, { token: admin.token })).listing.status).toBe(
      'PENDING_PAYMENT',
    );

    const asBob = dataOf(
      await stack.graph(ListingsPageDocument, { filter: { sellerId: ada.id }, first: 100 }, { token: bob.token }),
    );
    expect(asBob.listings.edges.every((e) => e.node.status === 'ACTIVE')).toBe(true);
    const asAda = dataOf(
      await stack.graph(ListingsPageDocument, { filter: { sellerId: ada.id }, first: 100 }, { token: ada.token }),
    );
    expect(asAda.listings.edges.map((e) => e.node.id)).toContain(pending.id);
    const pendingForBob = dataOf(
      await stack.graph(ListingsPageDocument, { filter: { status: 'PENDING_PAYMENT' } }, { token: bob.token }),
    );
    expect(pendingForBob.listings.edges).toHaveLength(0);
  });

  it('makes a withdrawn listing final: no edits, no resubmission', async () => {
    const listing = await createListing(stack, ada, { category: 'JOBS' });
    expect(
      dataOf(await stack.graph(WithdrawListingDocument, { id: listing.id }, { token: ada.token })).withdrawListing
        .status,
    ).toBe('WITHDRAWN');
    const edit = await stack.graph(
      UpdateListingDocument,
      { id: listing.id, input: { title: 'Back again' } },
      { token: ada.token },
    );
    expect(errorOf(edit).extensions.code).toBe('CONFLICT');
    expect(
      errorOf(await stack.graph(WithdrawListingDocument, { id: listing.id }, { token: ada.token })).extensions.code,
    ).toBe('CONFLICT');
    expect(
      errorOf(await stack.graph(SubmitListingDocument, { id: listing.id }, { token: ada.token })).extensions.code,
    ).toBe('CONFLICT');
    expect(dataOf(await stack.graph(ListingDocument, { id: listing.id }, { token: ada.token })).listing.title).toBe(
      listing.title,
    );
  });
});

describe('listings pages', () => {
  let seller: TestUser;
  const titles: string[] = [];

  beforeAll(async () => {
    seller = await registerUser(stack, 'Pager');
    for (let i = 0; i < 7; i++) {
      const title = `Page item ${i}`;
      titles.push(title);
      await createListing(stack, seller, {
        category: 'JOBS',
        title,
        price: { amount: 1000 * (i + 1), currency: 'USD' },
      });
    }
    await createListing(stack, seller, { category: 'JOBS', title: 'Vintage 100% wool_coat', description: 'Warm.' });
  });

  it('pages through a seller’s listings newest first with stable cursors, no gaps, no repeats', async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    let pages = 0;
    do {
      const { listings } = dataOf(
        await stack.graph(ListingsPageDocument, {
          filter: { sellerId: seller.id, search: 'Page item' },
          first: 3,
          after,
        }),
      );
      seen.push(...listings.edges.map((e) => e.node.title));
      expect(listings.pageInfo.hasPreviousPage).toBe(Boolean(after));
      after = listings.pageInfo.hasNextPage ? listings.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    const onePage = dataOf(
      await stack.graph(ListingsPageDocument, { filter: { sellerId: seller.id, search: 'Page item' }, first: 100 }),
    ).listings.edges;
    expect(seen).toEqual(onePage.map((e) => e.node.title));
    expect([...seen].sort()).toEqual([...titles].sort());
    const created = onePage.map((e) => Date.parse(e.node.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('filters by category, search (escaping LIKE wildcards), and price range', async () => {
    const search = async (filter: Record<string, unknown>) =>
      dataOf(
        await stack.graph(ListingsPageDocument, { filter: { sellerId: seller.id, ...filter }, first: 50 }),
      ).listings.edges.map((e) => e.node.title);
    expect(await search({ search: '100% wool_' })).toEqual(['Vintage 100% wool_coat']);
    expect(await search({ search: '%' })).toEqual(['Vintage 100% wool_coat']);
    expect(await search({ minPrice: 2000, maxPrice: 3000, search: 'Page' })).toEqual(['Page item 2', 'Page item 1']);
    expect(await search({ category: 'VEHICLES' })).toEqual([]);
    const total = dataOf(await stack.graph(ListingsCountDocument, { filter: { sellerId: seller.id } })).listings
      .totalCount;
    expect(total).toBe(8);
  });

  it('refuses bad page arguments with BAD_USER_INPUT', async () => {
    expect(errorOf(await stack.graph(ListingsPageDocument, { first: 0 })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'first',
    });
    expect(errorOf(await stack.graph(ListingsPageDocument, { first: 101 })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'first',
    });
    expect(errorOf(await stack.graph(ListingsPageDocument, { after: 'garbage' })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
    expect(
      errorOf(await stack.graph(ListingsPageDocument, { filter: { minPrice: 10, maxPrice: 5 } })).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'minPrice' });
    expect(errorOf(await stack.graph(ListingsPageDocument, { filter: { sellerId: 'nope' } })).extensions).toMatchObject(
      { code: 'BAD_USER_INPUT', field: 'sellerId' },
    );
  });

  it('shows a user’s listings and count on User, as the caller may see them', async () => {
    await createListing(stack, seller, { title: 'Pending one' });
    const publicView = dataOf(await stack.graph(UserDocument, { id: seller.id })).user;
    expect(publicView.listingCount).toBe(8);
    const ownView = dataOf(await stack.graph(UserDocument, { id: seller.id }, { token: seller.token })).user;
    expect(ownView.listingCount).toBe(9);
    expect(ownView.listings.totalCount).toBe(9);
    expect(ownView.listings.nodes[0]!.status).toBe('PENDING_PAYMENT');
  });
});

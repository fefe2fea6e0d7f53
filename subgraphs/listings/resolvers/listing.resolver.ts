import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { listingUrl } from '../../../lib/listing-url';
import { decodeCursor, pageSize } from '../../../lib/pagination';
import type { ListingsContext } from '../context';
import { canView } from '../domain/listing-lifecycle';
import { NotFoundError } from '../../../lib/errors';
import { Listing } from '../entities/listing';
import { ListingConnection, toListingConnection } from '../entities/listing-connection';
import { toListing } from '../entities/listing.mapper';
import { User } from '../entities/user';
import { CreateListingInput, ListingFilterInput, UpdateListingInput } from './inputs';

@Resolver(() => Listing)
export class ListingResolver {
  @Query(() => Listing, {
    description:
      'One listing by id. Listings that are not ACTIVE are visible only to their seller and admins (NOT_FOUND for others).',
  })
  async listing(@Arg('id', () => ID) id: string, @Ctx() ctx: ListingsContext): Promise<Listing> {
    const row = await ctx.loaders.listing.load(id);
    if (!canView(ctx.viewer, row)) throw new NotFoundError('Listing', id);
    return toListing(row);
  }

  @Query(() => ListingConnection, {
    description:
      'Listings, newest first, with cursor pagination. Anonymous callers and other sellers see ACTIVE listings only.',
  })
  async listings(
    @Ctx() ctx: ListingsContext,
    @Arg('filter', () => ListingFilterInput, {
      nullable: true,
      description: 'What to match; all ACTIVE listings when omitted.',
    })
    filter?: ListingFilterInput,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. @default 20' }) first?: number,
    @Arg('after', () => String, {
      nullable: true,
      description: 'Cursor to continue after (pageInfo.endCursor of the previous page).',
    })
    after?: string,
  ): Promise<ListingConnection> {
    const limit = pageSize(first);
    const cursor = after ? decodeCursor(after) : undefined;
    const page = await ctx.listings.search(ctx.viewer, filter ?? {}, limit, cursor);
    return toListingConnection(page, cursor !== undefined, () => ctx.listings.count(ctx.viewer, filter ?? {}));
  }

  @FieldResolver(() => String, {
    description:
      "The listing's canonical page on SayPro's site (SITE_URL with its id and a slug of its title). The slug follows the title; the id alone identifies the listing.",
  })
  url(@Root() listing: Listing, @Ctx() ctx: ListingsContext): string {
    return listingUrl(ctx.siteUrl, listing);
  }

  @FieldResolver(() => User, { description: 'Who posted the listing.' })
  seller(@Root() listing: Listing, @Ctx() ctx: ListingsContext): Promise<User> {
    return ctx.loaders.user.load(listing.sellerId);
  }

  @Mutation(() => Listing, {
    description:
      'Creates a listing for the signed-in user: PENDING_PAYMENT when its category has a posting fee, ACTIVE when free, DRAFT when `draft: true`.',
  })
  async createListing(
    @Arg('input', () => CreateListingInput) input: CreateListingInput,
    @Ctx() ctx: ListingsContext,
  ): Promise<Listing> {
    const row = await ctx.listings.create(
      ctx.viewer,
      {
        title: input.title,
        description: input.description,
        priceAmount: input.price.amount,
        currency: input.price.currency,
        category: input.category,
        location: input.location,
        draft: input.draft,
      },
      { requestId: ctx.requestId },
    );
    return toListing(row);
  }

  @Mutation(() => Listing, {
    description: 'Changes a listing. Only its seller or an admin; a WITHDRAWN listing cannot be edited (CONFLICT).',
  })
  async updateListing(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateListingInput) input: UpdateListingInput,
    @Ctx() ctx: ListingsContext,
  ): Promise<Listing> {
    const row = await ctx.listings.update(
      ctx.viewer,
      id,
      {
        title: input.title ?? undefined,
        description: input.description ?? undefined,
        priceAmount: input.price?.amount,
        currency: input.price?.currency,
        category: input.category ?? undefined,
        location: input.location ?? undefined,
      },
      { requestId: ctx.requestId },
    );
    return toListing(row);
  }

  @Mutation(() => Listing, {
    description: 'Submits a DRAFT for publication: PENDING_PAYMENT, or ACTIVE when its category is free.',
  })
  async submitListing(@Arg('id', () => ID) id: string, @Ctx() ctx: ListingsContext): Promise<Listing> {
    return toListing(await ctx.listings.submit(ctx.viewer, id, { requestId: ctx.requestId }));
  }

  // Not in the public API (@inaccessible): payments calls it on this subgraph, as the system.
  @Directive('@inaccessible')
  @Mutation(() => String, {
    description:
      'Internal: payments, right after a charge succeeded, puts the listing live before it answers (activated, already-active, not-payable, underpaid, missing). The payment.succeeded event does the same later; both are idempotent.',
  })
  async activatePaidListing(
    @Arg('listingId', () => ID) listingId: string,
    @Arg('amount', () => Int) amount: number,
    @Arg('currency') currency: string,
    @Ctx() ctx: ListingsContext,
  ): Promise<string> {
    return ctx.listings.activatePaidNow(ctx.viewer, listingId, { amount, currency }, { requestId: ctx.requestId });
  }

  @Mutation(() => Listing, { description: 'Takes a listing down for good (WITHDRAWN). Only its seller or an admin.' })
  async withdrawListing(@Arg('id', () => ID) id: string, @Ctx() ctx: ListingsContext): Promise<Listing> {
    return toListing(await ctx.listings.withdraw(ctx.viewer, id, { requestId: ctx.requestId }));
  }
}

@Resolver(() => ListingConnection)
export class ListingConnectionResolver {
  @FieldResolver(() => Int, {
    description: 'How many listings match the filter in all pages. Costs a count query: ask only when you show it.',
  })
  totalCount(@Root() connection: ListingConnection): Promise<number> {
    return connection.countTotal ? connection.countTotal() : Promise.resolve(connection.nodes.length);
  }
}

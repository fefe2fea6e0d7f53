import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { allows } from '../../../lib/permissions';
import type { SeoContext } from '../context';
import type { IndexNowUrlRow, PageRow } from '../db/schema';
import { structuredDataOf, type JsonLd } from '../domain/structured-data';
import { Listing } from '../entities/listing';
import { type IndexNowSubmissionStatus, ListingSeo } from '../entities/listing-seo';

function toListingSeo(page: PageRow, submission: IndexNowUrlRow | null): ListingSeo {
  return {
    sellerId: page.sellerId,
    url: page.url,
    lastSubmittedAt: submission?.lastSubmittedAt ?? null,
    submissionStatus: (submission?.status as IndexNowSubmissionStatus | undefined) ?? null,
  };
}

@Resolver(() => Listing)
export class ListingSeoResolver {
  @FieldResolver(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'The listing page\'s JSON-LD (schema.org Product with an Offer: price, currency, availability InStock while ACTIVE, SoldOut once withdrawn, Discontinued once expired; the seller as a Person). Embed it as <script type="application/ld+json">. Null before the listing was ever public, or until the seo service has seen it (seconds after a change).',
  })
  async structuredData(@Root() listing: Listing, @Ctx() ctx: SeoContext): Promise<JsonLd | null> {
    const page = await ctx.loaders.page.load(listing.id);
    return page ? structuredDataOf(page.content, page.status) : null;
  }

  @FieldResolver(() => ListingSeo, {
    nullable: true,
    description:
      'Its canonical URL and IndexNow push (last submitted, status). The seller and admins only: null for others, and until the seo service has seen the listing.',
  })
  async seo(@Root() listing: Listing, @Ctx() ctx: SeoContext): Promise<ListingSeo | null> {
    const page = await ctx.loaders.page.load(listing.id);
    if (!page || !allows(ctx.viewer, 'seo.read', page.sellerId)) return null;
    return toListingSeo(page, await ctx.loaders.submission.load(listing.id));
  }
}

@Resolver()
export class SeoAdminResolver {
  @Mutation(() => ListingSeo, {
    description:
      "Queues one listing's URL for IndexNow again (whatever its status: a withdrawn URL tells search engines it is gone). Admins only; NOT_FOUND for a listing the seo service has not seen.",
  })
  async resubmitListingToIndexNow(
    @Arg('id', () => ID, { description: 'The listing id.' }) id: string,
    @Ctx() ctx: SeoContext,
  ): Promise<ListingSeo> {
    const page = await ctx.seo.resubmit(ctx.viewer, id);
    const [submission] = await ctx.indexNow.byListingIds([page.listingId]);
    return toListingSeo(page, submission ?? null);
  }

  @Mutation(() => Int, {
    description:
      'Queues the URL of every ACTIVE listing for IndexNow (sent in batches of up to 10,000 per host); returns how many were queued. Admins only.',
  })
  resubmitAllListingsToIndexNow(@Ctx() ctx: SeoContext): Promise<number> {
    return ctx.seo.resubmitAll(ctx.viewer);
  }

  @Mutation(() => Int, {
    description:
      'Re-reads every listing search engines may have seen (ACTIVE, WITHDRAWN, EXPIRED) from listings, a page at a time, and refreshes the sitemap, structured data and IndexNow from it; returns how many listings were read. Admins only.',
  })
  rebuildSitemap(@Ctx() ctx: SeoContext): Promise<number> {
    return ctx.seo.rebuild(ctx.viewer, ctx.requestId);
  }
}

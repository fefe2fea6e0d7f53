import { GraphQLJSONObject } from 'graphql-scalars';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { SeoContext } from '../context';
import { structuredDataOf, type JsonLd } from '../domain/structured-data';
import { Listing } from '../entities/listing';

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
}

import { Directive, Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LISTING_CATEGORIES, type ListingCategoryName } from './categories';

/** Value types several subgraphs return; `@shareable` lets each resolve them. One definition for all. */

@Directive('@shareable')
@ObjectType({ description: 'An amount of money in integer minor units (cents) of an ISO-4217 currency.' })
export class Money {
  @Field(() => Int, { description: 'Amount in minor units: 1000 USD is $10.00.' })
  amount: number;

  @Field({ description: 'ISO-4217 currency code, e.g. USD.' })
  currency: string;
}

@Directive('@shareable')
@ObjectType({ description: 'Relay-style pagination state of a connection.' })
export class PageInfo {
  @Field({ description: 'True when more items follow; fetch them with `after: endCursor`.' })
  hasNextPage: boolean;

  @Field({ description: 'True when this page was fetched with an `after` cursor.' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of this page.' })
  startCursor: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last item of this page; pass it as `after` for the next page.',
  })
  endCursor: string | null;
}

/** The shared category list as a GraphQL enum; every subgraph that names categories uses this one. */
export const ListingCategory = Object.fromEntries(LISTING_CATEGORIES.map((c) => [c, c])) as {
  [K in ListingCategoryName]: K;
};
export type ListingCategory = ListingCategoryName;
registerEnumType(ListingCategory, {
  name: 'ListingCategory',
  description: 'The section of the marketplace a listing appears in.',
});

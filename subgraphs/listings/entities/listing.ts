import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { ListingCategory, ListingStatus } from './enums';
import { Money } from '../../../lib/shared-types';

@Directive('@key(fields: "id")')
@ObjectType({
  description: 'A classified listing. Owned by the listings service; payments, email and CRM add what they know.',
})
export class Listing {
  @Field(() => ID, { description: 'Stable listing id (UUID).' })
  id: string;

  @Field({ description: 'Headline shown in search results (3–120 characters).' })
  title: string;

  @Field({ description: 'Full text of the listing, as the seller wrote it.' })
  description: string;

  @Field(() => Money, { description: 'Asking price.' })
  price: Money;

  @Field(() => ListingCategory, { description: 'Marketplace section.' })
  category: ListingCategory;

  @Field({ description: 'Where the item or service is, as the seller wrote it.' })
  location: string;

  @Field(() => ListingStatus, { description: 'Lifecycle state; only ACTIVE listings are public.' })
  status: ListingStatus;

  @Field({ description: 'When the listing was created.' })
  createdAt: Date;

  @Field({ description: 'When the listing last changed.' })
  updatedAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the listing became ACTIVE; null before that.' })
  publishedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When an ACTIVE listing expires.' })
  expiresAt: Date | null;

  /** Resolved to `seller: User!` by ListingResolver through the user loader. */
  sellerId: string;
}

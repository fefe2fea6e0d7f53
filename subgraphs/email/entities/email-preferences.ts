import { Field, ObjectType } from 'type-graphql';
import { ListingCategory, SuppressionReason } from './enums';

@ObjectType({ description: 'Which newly published listings the user wants to hear about.' })
export class NewListingAlerts {
  @Field({ description: 'Whether alerts are on.' })
  enabled: boolean;

  @Field(() => [ListingCategory], { description: 'Categories that match; empty means every category.' })
  categories: ListingCategory[];

  @Field(() => [String], {
    description:
      'Words of which one must appear in the title or description (case-insensitive); empty means any listing.',
  })
  keywords: string[];
}

@ObjectType({ description: "A user's mail preferences. Receipts and other transactional mail are always sent." })
export class EmailPreferences {
  @Field({ description: 'Promotions and campaigns.' })
  marketing: boolean;

  @Field({ description: 'Account update mail.' })
  accountUpdates: boolean;

  @Field(() => NewListingAlerts, { description: 'New-listing alerts.' })
  newListingAlerts: NewListingAlerts;

  @Field(() => SuppressionReason, {
    nullable: true,
    description:
      "Set when the user's address gets no marketing mail whatever the switches say (unsubscribed, bounced, spam report).",
  })
  suppressed: SuppressionReason | null;

  @Field(() => Date, { nullable: true, description: 'When the address was suppressed.' })
  suppressedAt: Date | null;
}

import { ArrayMaxSize, IsOptional, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { SingleLine } from '../../../lib/validation';
import { EmailTemplate, ListingCategory } from '../entities/enums';

const NOT_BLANK = /\S/;

@InputType({
  description: 'A mail to send: to one of our users (userId) or to an address (to), from a template with its data.',
})
export class SendEmailInput {
  @Field(() => ID, {
    nullable: true,
    description: 'The recipient user; their address and name come from their account. Give this or `to`.',
  })
  @IsOptional()
  userId?: string | null;

  @Field(() => String, { nullable: true, description: 'A bare recipient address. Give this or `userId`.' })
  @IsOptional()
  @MaxLength(254, { message: 'to must be at most 254 characters' })
  to?: string | null;

  @Field(() => EmailTemplate, { description: 'Which template to render.' })
  template: EmailTemplate;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: "The template's data (see EmailTemplate); `name` and `appUrl` are filled in when missing.",
  })
  @IsOptional()
  data?: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Repeat the call with the same key and the same recipient and template: the first mail is returned, nothing is sent twice.',
  })
  @IsOptional()
  @Length(1, 200, { message: 'idempotencyKey must be 1 to 200 characters' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Changes to new-listing alerts; omitted fields stay as they are.' })
export class NewListingAlertsInput {
  @Field(() => Boolean, { nullable: true, description: 'Turn alerts on or off.' })
  @IsOptional()
  enabled?: boolean | null;

  @Field(() => [ListingCategory], { nullable: true, description: 'Categories that match; empty means every category.' })
  @IsOptional()
  @ArrayMaxSize(20, { message: 'at most 20 categories' })
  categories?: ListingCategory[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'Words of which one must appear in the title or description; empty means any listing. At most 20, each up to 50 characters.',
  })
  @IsOptional()
  @ArrayMaxSize(20, { message: 'at most 20 keywords' })
  @SingleLine('keywords', { each: true })
  keywords?: string[] | null;
}

@InputType({ description: 'Changes to mail preferences; omitted fields stay as they are.' })
export class EmailPreferencesInput {
  @Field(() => Boolean, {
    nullable: true,
    description: 'Promotions and campaigns. Turning it on lifts an earlier unsubscribe (not a bounce or spam report).',
  })
  @IsOptional()
  marketing?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Account update mail.' })
  @IsOptional()
  accountUpdates?: boolean | null;

  @Field(() => NewListingAlertsInput, { nullable: true, description: 'New-listing alerts.' })
  @IsOptional()
  @ValidateNested()
  newListingAlerts?: NewListingAlertsInput | null;
}

@InputType({ description: 'A new campaign: a PROMOTION mail and who gets it.' })
export class CreateCampaignInput {
  @Field({ description: 'Internal name, 1–200 characters.' })
  @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @SingleLine('name')
  name: string;

  @Field({ description: 'Subject line, 1–200 characters.' })
  @Length(1, 200, { message: 'subject must be 1 to 200 characters' })
  @SingleLine('subject')
  subject: string;

  @Field({ description: 'Headline, 1–200 characters.' })
  @Length(1, 200, { message: 'headline must be 1 to 200 characters' })
  @SingleLine('headline')
  headline: string;

  @Field({ description: 'Body text (plain; line breaks kept), up to 5000 characters.' })
  @Length(1, 5000, { message: 'body must be 1 to 5000 characters' })
  body: string;

  @Field(() => String, { nullable: true, description: 'Label of the call-to-action button.' })
  @IsOptional()
  @MaxLength(100, { message: 'ctaLabel must be at most 100 characters' })
  @SingleLine('ctaLabel')
  ctaLabel?: string | null;

  @Field(() => String, { nullable: true, description: 'Link of the call-to-action button (http or https).' })
  @IsOptional()
  @MaxLength(2000, { message: 'ctaUrl must be at most 2000 characters' })
  ctaUrl?: string | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Only these users; every user who takes marketing mail when omitted.',
  })
  @IsOptional()
  userIds?: string[] | null;
}

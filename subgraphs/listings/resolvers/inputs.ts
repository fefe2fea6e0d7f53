import {
  IsEmail,
  IsISO4217CurrencyCode,
  IsOptional,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { NoUrl, SingleLine } from '../../../lib/validation';
import { ListingCategory, ListingStatus } from '../entities/enums';

const NOT_BLANK = /\S/;
const MAX_AMOUNT = 1_000_000_000;

@InputType({ description: 'An amount of money in integer minor units.' })
export class MoneyInput {
  @Field(() => Int, { description: 'Amount in minor units (cents), 0 or more.' })
  @Min(0, { message: 'amount must be 0 or more (minor units, e.g. cents)' })
  @Max(MAX_AMOUNT, { message: `amount must be at most ${MAX_AMOUNT}` })
  amount: number;

  @Field({ description: 'ISO-4217 currency code, e.g. USD.' })
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code such as USD' })
  currency: string;
}

@InputType({ description: 'A new user.' })
export class RegisterUserInput {
  @Field({ description: 'Display name, 1–100 characters.' })
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @SingleLine('name')
  @NoUrl('name')
  name: string;

  @Field({ description: 'Email address; unique across users, case-insensitively.' })
  @MaxLength(254, { message: 'email must be at most 254 characters' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  email: string;
}

@InputType({ description: 'Changes to a user profile; omitted fields stay as they are.' })
export class UpdateUserInput {
  @Field({ nullable: true, description: 'New display name, 1–100 characters.' })
  @IsOptional()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @SingleLine('name')
  @NoUrl('name')
  name?: string;

  @Field({ nullable: true, description: 'New email address; must not belong to another user.' })
  @IsOptional()
  @MaxLength(254, { message: 'email must be at most 254 characters' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  email?: string;
}

@InputType({ description: 'A new listing.' })
export class CreateListingInput {
  @Field({ description: 'Headline, 3–120 characters.' })
  @Length(3, 120, { message: 'title must be 3 to 120 characters' })
  @Matches(NOT_BLANK, { message: 'title must not be blank' })
  @SingleLine('title')
  title: string;

  @Field({ description: 'Full text, 1–5000 characters.' })
  @Length(1, 5000, { message: 'description must be 1 to 5000 characters' })
  @Matches(NOT_BLANK, { message: 'description must not be blank' })
  description: string;

  @Field(() => MoneyInput, { description: 'Asking price.' })
  @ValidateNested()
  price: MoneyInput;

  @Field(() => ListingCategory, { description: 'Marketplace section; it also decides the posting fee.' })
  category: ListingCategory;

  @Field({ description: 'Where the item or service is, 1–120 characters.' })
  @Length(1, 120, { message: 'location must be 1 to 120 characters' })
  @Matches(NOT_BLANK, { message: 'location must not be blank' })
  @SingleLine('location')
  location: string;

  @Field({ defaultValue: false, description: 'Save as DRAFT instead of submitting it for publication.' })
  draft: boolean;
}

@InputType({ description: 'Changes to a listing; omitted fields stay as they are.' })
export class UpdateListingInput {
  @Field({ nullable: true, description: 'New headline, 3–120 characters.' })
  @IsOptional()
  @Length(3, 120, { message: 'title must be 3 to 120 characters' })
  @Matches(NOT_BLANK, { message: 'title must not be blank' })
  @SingleLine('title')
  title?: string;

  @Field({ nullable: true, description: 'New full text, 1–5000 characters.' })
  @IsOptional()
  @Length(1, 5000, { message: 'description must be 1 to 5000 characters' })
  @Matches(NOT_BLANK, { message: 'description must not be blank' })
  description?: string;

  @Field(() => MoneyInput, { nullable: true, description: 'New asking price.' })
  @IsOptional()
  @ValidateNested()
  price?: MoneyInput;

  @Field(() => ListingCategory, { nullable: true, description: 'New marketplace section.' })
  category?: ListingCategory;

  @Field({ nullable: true, description: 'New location, 1–120 characters.' })
  @IsOptional()
  @Length(1, 120, { message: 'location must be 1 to 120 characters' })
  @Matches(NOT_BLANK, { message: 'location must not be blank' })
  @SingleLine('location')
  location?: string;
}

@InputType({
  description:
    'Narrows a listings query. Without sellerId (or as a non-admin filtering on someone else) only ACTIVE listings match.',
})
export class ListingFilterInput {
  @Field(() => ListingCategory, { nullable: true, description: 'Only this section.' })
  category?: ListingCategory;

  @Field(() => ListingStatus, {
    nullable: true,
    description: 'Only this status. Non-ACTIVE statuses match only your own listings (or all, for admins).',
  })
  status?: ListingStatus;

  @Field(() => ID, { nullable: true, description: "Only this seller's listings." })
  @IsOptional()
  @IsUUID('all', { message: 'sellerId must be a user id' })
  sellerId?: string;

  @Field({
    nullable: true,
    description: 'Words to find in the title or description (case-insensitive), at most 100 characters.',
  })
  @IsOptional()
  @MaxLength(100, { message: 'search must be at most 100 characters' })
  search?: string;

  @Field(() => Int, { nullable: true, description: 'Lowest price, in minor units.' })
  @IsOptional()
  @Min(0, { message: 'minPrice must be 0 or more' })
  minPrice?: number;

  @Field(() => Int, { nullable: true, description: 'Highest price, in minor units.' })
  @IsOptional()
  @Min(0, { message: 'maxPrice must be 0 or more' })
  maxPrice?: number;
}

import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { IsOptional, Length, Matches, IsUUID, Min, IsISO4217CurrencyCode } from 'class-validator';
import { ChargeStatus, PaymentStatus } from './enums';
import { Listing } from './listing';
import { Transaction } from './transaction';

@InputType({
  description: "Pay a listing's posting fee. The amount is priced on the server from the listing's category.",
})
export class ChargeListingInput {
  @Field(() => ID, { description: 'The listing to pay for; it must be yours and waiting for payment.' })
  @IsUUID('all', { message: 'listingId must be a listing id' })
  listingId: string;

  @Field({ description: 'A payment method id from Stripe.js (pm_…); test cards such as pm_card_visa in test mode.' })
  @Matches(/^pm_[A-Za-z0-9_]{1,200}$/, { message: 'paymentMethodId must be a payment method id (pm_…)' })
  paymentMethodId: string;

  @Field({
    description:
      'A key you choose per charge (8–255 characters). Retrying with the same key never charges twice and returns the same result.',
  })
  @Length(8, 255, { message: 'idempotencyKey must be 8 to 255 characters' })
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'idempotencyKey may contain letters, digits and _ . : - only' })
  idempotencyKey: string;

  @Field(() => Int, {
    nullable: true,
    description:
      'Optional: the amount you expect to pay; refused (and nothing charged) when it is not the posting fee.',
  })
  @IsOptional()
  @Min(0, { message: 'amount must be 0 or more' })
  amount?: number;

  @Field({ nullable: true, description: 'Optional: the currency you expect; refused when it is not the fee currency.' })
  @IsOptional()
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO-4217 code such as USD' })
  currency?: string;
}

@ObjectType({ description: 'The result of chargeListing, shaped like the seed API response.' })
export class ChargeListingPayload {
  @Field(() => ChargeStatus, {
    description: 'SUCCEEDED, DECLINED, REQUIRES_ACTION (authenticate with clientSecret) or PROCESSING.',
  })
  status: ChargeStatus;

  @Field(() => ID, { description: 'The transaction id; query it with `transaction(id:)`.' })
  transactionId: string;

  @Field(() => Int, { description: 'Amount charged, in minor units.' })
  amount: number;

  @Field({ description: 'ISO-4217 currency.' })
  currency: string;

  @Field(() => PaymentStatus, { description: "The transaction's status." })
  paymentStatus: PaymentStatus;

  @Field(() => String, { nullable: true, description: 'Why it was declined (e.g. insufficient_funds).' })
  declineCode: string | null;

  @Field(() => String, { nullable: true, description: 'A message about the decline fit to show the customer.' })
  declineMessage: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'For REQUIRES_ACTION: pass to Stripe.js handleNextAction to authenticate.',
  })
  clientSecret: string | null;

  @Field(() => Transaction, { description: 'The transaction.' })
  transaction: Transaction;

  @Field(() => Listing, { description: 'The listing paid for (ACTIVE once the payment is processed).' })
  listing: Listing;
}

import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { IsOptional, IsUUID, Length, Matches } from 'class-validator';
import { Transaction } from './transaction';

@InputType({
  description:
    "Pay a listing's posting fee with PayPal. The amount is priced on the server from the listing's category.",
})
export class StartPayPalCheckoutInput {
  @Field(() => ID, { description: 'The listing to pay for; it must be yours and waiting for payment.' })
  @IsUUID('all', { message: 'listingId must be a listing id' })
  listingId: string;

  @Field({
    description: 'A key you choose per checkout (8–255 characters). The same key again answers the same PayPal order.',
  })
  @Length(8, 255, { message: 'idempotencyKey must be 8 to 255 characters' })
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'idempotencyKey may contain letters, digits and _ . : - only' })
  idempotencyKey: string;
}

@ObjectType({
  description: 'A PayPal checkout: send the payer to approvalUrl; PayPal sends them back to /paypal/return on SayPro.',
})
export class PayPalCheckoutPayload {
  @Field(() => Transaction, {
    description: 'The payment (REQUIRES_ACTION until the payer approves and the order is captured).',
  })
  payment: Transaction;

  @Field(() => String, {
    nullable: true,
    description: "PayPal's approval page for this order; null once the checkout is past approval.",
  })
  approvalUrl: string | null;
}

/** Which PayPal checkout: ours by id, or the latest of a listing (the return and cancel URLs carry both). */
@InputType('PayPalCheckoutRef')
abstract class PayPalCheckoutRef {
  @Field(() => ID, {
    nullable: true,
    description: 'The payment (the `payment` query parameter of the return and cancel URLs).',
  })
  @IsOptional()
  @IsUUID('all', { message: 'paymentId must be a transaction id' })
  paymentId?: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'The listing: its latest PayPal checkout (the `listing` query parameter of the return and cancel URLs).',
  })
  @IsOptional()
  @IsUUID('all', { message: 'listingId must be a listing id' })
  listingId?: string | null;
}

@InputType({ description: 'Which PayPal checkout to capture: give exactly one of paymentId and listingId.' })
export class CapturePayPalCheckoutInput extends PayPalCheckoutRef {}

@InputType({ description: 'Which PayPal checkout to cancel: give exactly one of paymentId and listingId.' })
export class CancelPayPalCheckoutInput extends PayPalCheckoutRef {}

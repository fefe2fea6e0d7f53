import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { Money, PageInfo } from '../../../lib/shared-types';
import type { PaymentRow } from '../db/schema';
import { PaymentProvider, PaymentStatus } from './enums';
import { Listing } from './listing';
import { User } from './user';

@Directive('@key(fields: "id")')
@ObjectType({
  description: 'A payment for a listing: one charge attempt and what became of it. Visible to the payer and admins.',
})
export class Transaction {
  @Field(() => ID, { description: 'Our transaction id (UUID); the seed API calls it transaction_id.' })
  id: string;

  @Field(() => PaymentStatus, { description: 'Where the payment is.' })
  status: PaymentStatus;

  @Field(() => PaymentProvider, { description: 'Who took the payment: Stripe (a card) or PayPal.' })
  provider: PaymentProvider;

  @Field(() => Money, { description: 'What was (or is being) charged.' })
  amount: Money;

  @Field(() => Money, { description: 'How much of it was refunded.' })
  amountRefunded: Money;

  @Field(() => String, {
    nullable: true,
    description: "The processor's reference: a Stripe PaymentIntent id, or a PayPal order id.",
  })
  providerReference: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was declined (e.g. insufficient_funds), when it was.' })
  declineCode: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The processor's explanation of a decline, fit to show the customer.",
  })
  declineMessage: string | null;

  @Field(() => Listing, { description: 'The listing paid for.' })
  listing: Listing;

  @Field(() => User, { description: 'Who paid.' })
  payer: User;

  @Field({ description: 'When the charge was requested.' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When it succeeded.' })
  succeededAt: Date | null;

  userId: string;
}

export function toTransaction(row: PaymentRow): Transaction {
  return {
    id: row.id,
    status: row.status as PaymentStatus,
    provider: row.provider as PaymentProvider,
    amount: { amount: row.amount, currency: row.currency },
    amountRefunded: { amount: row.amountRefunded, currency: row.currency },
    providerReference: row.providerReference,
    declineCode: row.declineCode,
    declineMessage: row.declineMessage,
    listing: { id: row.listingId },
    payer: { id: row.userId },
    createdAt: row.createdAt,
    succeededAt: row.succeededAt,
    userId: row.userId,
  };
}

@ObjectType({ description: 'An edge in a transactions connection.' })
export class TransactionEdge {
  @Field({ description: 'Opaque cursor of this transaction.' })
  cursor: string;

  @Field(() => Transaction, { description: 'The transaction.' })
  node: Transaction;
}

@ObjectType({ description: 'A page of transactions, newest first.' })
export class TransactionConnection {
  @Field(() => [TransactionEdge], { description: 'The transactions of this page with their cursors.' })
  edges: TransactionEdge[];

  @Field(() => PageInfo, { description: 'Where this page sits in the whole list.' })
  pageInfo: PageInfo;
}

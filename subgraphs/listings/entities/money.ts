import { Directive, Field, Int, ObjectType } from 'type-graphql';

@Directive('@shareable')
@ObjectType({ description: 'An amount of money in integer minor units (cents) of an ISO-4217 currency.' })
export class Money {
  @Field(() => Int, { description: 'Amount in minor units: 1000 USD is $10.00.' })
  amount: number;

  @Field({ description: 'ISO-4217 currency code, e.g. USD.' })
  currency: string;
}

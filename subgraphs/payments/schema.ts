import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { Listing } from './entities/listing';
import { Transaction } from './entities/transaction';
import { resolveTransactionReference } from './entities/transaction.reference';
import { User } from './entities/user';
import { ListingPaymentResolver, PaymentResolver, UserPaymentsResolver } from './resolvers/payment.resolver';

/** The payments subgraph's schema: pure, no I/O. Listing and User references need no lookup here. */
export function buildPaymentsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [PaymentResolver, ListingPaymentResolver, UserPaymentsResolver],
      orphanedTypes: [Listing, User, Transaction],
    },
    {
      Transaction: { __resolveReference: resolveTransactionReference },
      Listing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
      User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
    },
  );
}

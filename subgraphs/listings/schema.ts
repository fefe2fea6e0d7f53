import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { resolveListingReference } from './entities/listing.reference';
import { resolveUserReference } from './entities/user.reference';
import { ListingConnectionResolver, ListingResolver } from './resolvers/listing.resolver';
import { UserResolver } from './resolvers/user.resolver';
import { ApiKeyResolver } from './resolvers/api-key.resolver';
import { DeadEventResolver } from './resolvers/dead-event.resolver';
import { Listing } from './entities/listing';
import { User } from './entities/user';

/** The listings subgraph's schema: pure, no I/O; `npm run schema` prints it. */
export function buildListingsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [ListingResolver, ListingConnectionResolver, UserResolver, ApiKeyResolver, DeadEventResolver],
      orphanedTypes: [Listing, User],
    },
    { Listing: { __resolveReference: resolveListingReference }, User: { __resolveReference: resolveUserReference } },
  );
}

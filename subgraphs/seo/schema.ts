import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { Listing } from './entities/listing';
import { ListingSeo } from './entities/listing-seo';
import { ListingSeoResolver, SeoAdminResolver } from './resolvers/seo.resolver';

/** The seo subgraph's schema: pure, no I/O. */
export function buildSeoSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [ListingSeoResolver, SeoAdminResolver], orphanedTypes: [Listing, ListingSeo] },
    { Listing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) } },
  );
}

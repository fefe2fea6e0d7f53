import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { Listing } from './entities/listing';
import { ListingSeoResolver } from './resolvers/seo.resolver';

/** The seo subgraph's schema: pure, no I/O. */
export function buildSeoSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [ListingSeoResolver], orphanedTypes: [Listing] },
    { Listing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) } },
  );
}

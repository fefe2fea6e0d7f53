import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { User } from './entities/user';
import { AnalyticsResolver, UserAnalyticsResolver } from './resolvers/analytics.resolver';

/** The analytics subgraph's schema: pure, no I/O. */
export function buildAnalyticsSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [AnalyticsResolver, UserAnalyticsResolver], orphanedTypes: [User] },
    { User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) } },
  );
}

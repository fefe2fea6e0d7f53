import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { User } from './entities/user';
import { CampaignResolver, EmailResolver, UserEmailResolver } from './resolvers/email.resolver';

/** The email subgraph's schema: pure, no I/O. */
export function buildEmailSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [EmailResolver, UserEmailResolver, CampaignResolver], orphanedTypes: [User] },
    { User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) } },
  );
}

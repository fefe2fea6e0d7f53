import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../lib/federation';
import { User } from './entities/user';
import { CrmContactRemoteResolver, CrmResolver, UserCrmResolver } from './resolvers/crm.resolver';

/** The CRM subgraph's schema: pure, no I/O. */
export function buildCrmSchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [CrmResolver, UserCrmResolver, CrmContactRemoteResolver], orphanedTypes: [User] },
    { User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) } },
  );
}

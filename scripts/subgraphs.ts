import type { GraphQLSchema } from 'graphql';
import { buildListingsSchema } from '../subgraphs/listings/schema';
import { buildEmailSchema } from '../subgraphs/email/schema';
import { buildCrmSchema } from '../subgraphs/crm/schema';
import { buildPaymentsSchema } from '../subgraphs/payments/schema';
import { buildSeoSchema } from '../subgraphs/seo/schema';
import { buildAnalyticsSchema } from '../subgraphs/analytics/schema';

/**
 * Every subgraph in the supergraph: its name, how to build its schema, and the URL recorded in
 * schema/supergraph.graphql (the gateway takes the real URLs from config). Add new subgraphs here.
 */
export const SUBGRAPHS: Array<{ name: string; build: () => Promise<GraphQLSchema>; url: string }> = [
  { name: 'listings', build: buildListingsSchema, url: 'http://127.0.0.1:4001/graphql' },
  { name: 'payments', build: buildPaymentsSchema, url: 'http://127.0.0.1:4002/graphql' },
  { name: 'crm', build: buildCrmSchema, url: 'http://127.0.0.1:4003/graphql' },
  { name: 'email', build: buildEmailSchema, url: 'http://127.0.0.1:4004/graphql' },
  { name: 'seo', build: buildSeoSchema, url: 'http://127.0.0.1:4005/graphql' },
  { name: 'analytics', build: buildAnalyticsSchema, url: 'http://127.0.0.1:4006/graphql' },
];

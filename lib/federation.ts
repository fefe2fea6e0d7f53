import 'reflect-metadata';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { buildSchema, createResolversMap, type BuildSchemaOptions } from 'type-graphql';
import { readGuardChecker } from './permissions';
import { validateArguments } from './validation';

export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@tag", "@override"])';

/** `{ TypeName: { __resolveReference } }`, merged into type-graphql's resolvers. */
export type ReferenceResolvers = Record<string, { __resolveReference: (...args: any[]) => unknown }>;

/**
 * type-graphql classes → a Federation 2 subgraph schema. type-graphql's schema check would reject
 * a subgraph (no Query of its own, directives it does not know), so it is skipped; the printed
 * SDL keeps `@key` and friends, and `buildSubgraphSchema` adds `_entities` and `_service`.
 */
export async function buildFederatedSchema(
  options: Omit<BuildSchemaOptions, 'skipCheck' | 'validate' | 'validateFn' | 'authChecker' | 'authMode'>,
  references: ReferenceResolvers = {},
): Promise<GraphQLSchema> {
  // A refused `@ReadableBy` field is null, not an error: the object is visible, that field is not.
  const schema = await buildSchema({
    ...options,
    skipCheck: true,
    validateFn: validateArguments,
    authChecker: readGuardChecker,
    authMode: 'null',
  });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const [typeName, reference] of Object.entries(references)) {
    resolvers[typeName] = { ...(resolvers[typeName] ?? {}), ...reference };
  }
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`),
    resolvers: resolvers as GraphQLResolverMap<unknown>,
  });
}

/** The subgraph's SDL as composition sees it (what `_service { sdl }` returns). */
export function subgraphSdl(schema: GraphQLSchema): string {
  return printSubgraphSchema(schema);
}

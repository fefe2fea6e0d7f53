import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';

/** One benchmark subgraph: its name in the supergraph, its Federation 2 SDL and its resolvers. */
export interface BenchSubgraph {
  name: string;
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
}

/** The `@link` line every subgraph starts with, importing only the directives it uses. */
export const federationLink = (...directives: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${directives.map((d) => `"${d}"`).join(', ')}])`;

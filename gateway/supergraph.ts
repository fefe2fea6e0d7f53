import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';

export interface LoadedSupergraph {
  sdl: string;
  /** The schema clients see: the supergraph without federation's own types and directives. */
  apiSchema: GraphQLSchema;
  /** Each subgraph's name and the URL its `@join__graph(url:)` records. */
  subgraphs: Array<{ name: string; url: string }>;
}

/** Reads a composed Federation 2 supergraph: any supergraph, not only ours, as routers do. */
export function loadSupergraph(sdl: string): LoadedSupergraph {
  const supergraph = Supergraph.build(sdl);
  return {
    sdl,
    apiSchema: supergraph.apiSchema().toGraphQLJSSchema(),
    subgraphs: supergraph.subgraphsMetadata().map(({ name, url }) => ({ name, url })),
  };
}

/** The variable that overrides a subgraph's URL: `listings` → LISTINGS_URL, `my-reviews` → MY_REVIEWS_URL. */
export const urlVariableOf = (subgraph: string) => `${subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;

/**
 * Each subgraph's URL: `<NAME>_URL` from the environment when set, else the supergraph's own. A
 * subgraph with neither, or a URL that does not parse, is a configuration error naming the variable.
 */
export function subgraphUrlsOf(
  subgraphs: LoadedSupergraph['subgraphs'],
  env: Record<string, string | undefined>,
): Record<string, string> {
  const urls: Record<string, string> = {};
  const problems: string[] = [];
  for (const { name, url } of subgraphs) {
    const variable = urlVariableOf(name);
    const chosen = env[variable] || url;
    try {
      if (!chosen) throw new Error('missing');
      urls[name] = new URL(chosen).toString();
    } catch {
      problems.push(
        `${variable}: subgraph ${name} needs an http(s) URL (the supergraph has ${url ? `"${url}"` : 'none'})`,
      );
    }
  }
  if (problems.length) throw new Error(`Invalid subgraph URLs:\n  ${problems.join('\n  ')}`);
  return urls;
}

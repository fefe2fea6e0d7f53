import '../../lib/telemetry';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from '../../lib/logger';
import type { GatewayContext } from '../context';
import { ViewerDataSource } from '../viewer-data-source';
import type { EngineResult, GatewayEngine } from './engine';
import { createSubgraphFetcher, type SubgraphFetcherOptions } from './subgraph-fetcher';

export interface EngineOptions {
  supergraphSdl: string;
  /** Subgraph name → GraphQL URL (the supergraph's own URLs with the configured overrides applied). */
  subgraphUrls: Record<string, string>;
  internalSecret: string;
  internalTokenTtlSeconds: number;
  logger: Logger;
  /** Shapes every error for clients (masks what is not meant for them). */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Allow introspection (the front door refuses it first when off). */
  introspection: boolean;
  fetch?: SubgraphFetcherOptions;
}

/**
 * `GATEWAY_ENGINE=apollo` (the default): @apollo/gateway's query planner and executor inside
 * Apollo Server, called in-process (the front door already did the HTTP part), with a keep-alive
 * undici pool per subgraph instead of Apollo's default fetcher.
 */
export async function createApolloEngine(options: EngineOptions): Promise<GatewayEngine & { apollo: ApolloServer<GatewayContext> }> {
  const http = createSubgraphFetcher(options.fetch);
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`No URL configured for subgraph ${name}`);
      return new ViewerDataSource(name, target, options.internalSecret, options.internalTokenTtlSeconds, options.logger, http.fetcher);
    },
    logger: options.logger,
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: options.formatError,
    includeStacktraceInErrorResponses: false,
    // The front door resolved APQ and the manifest: the engine always gets the text.
    persistedQueries: false,
    // lib/lifecycle.ts owns shutdown: drain HTTP first, then stop the engine, then close the database.
    stopOnTerminationSignals: false,
    introspection: options.introspection,
    plugins: [ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled(), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  return {
    name: 'apollo',
    apollo,
    async execute(operation, contextValue): Promise<EngineResult> {
      const response = await apollo.executeOperation(operation, { contextValue });
      if (response.body.kind !== 'single') throw new Error('incremental delivery is not enabled on this gateway');
      return { result: response.body.singleResult, status: response.http.status, headers: response.http.headers };
    },
    async stop() {
      await apollo.stop();
      await http.close();
    },
  };
}

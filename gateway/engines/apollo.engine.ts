import '../../lib/telemetry';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from '../../lib/logger';
import type { ApolloServerPlugin } from '@apollo/server';
import { metrics } from '../../lib/metrics';
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
export async function createApolloEngine(
  options: EngineOptions,
): Promise<GatewayEngine & { apollo: ApolloServer<GatewayContext> }> {
  const http = createSubgraphFetcher(options.fetch, options.subgraphUrls);
  // Phases: Apollo Server reports validation and execution; the gateway says when its plan is ready
  // (experimental_didResolveQueryPlan), which splits execution into planning and fetching.
  const planned = new WeakMap<object, bigint>();
  const seconds = (from: bigint, to: bigint) => Number(to - from) / 1e9;
  const phases: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async validationDidStart() {
          const started = process.hrtime.bigint();
          return async () =>
            metrics.graphqlPhase.observe(
              { phase: 'validate', engine: 'apollo' },
              seconds(started, process.hrtime.bigint()),
            );
        },
        async executionDidStart({ contextValue }) {
          const started = process.hrtime.bigint();
          return {
            async executionDidEnd() {
              const now = process.hrtime.bigint();
              const plannedAt = planned.get(contextValue);
              if (plannedAt)
                metrics.graphqlPhase.observe({ phase: 'plan', engine: 'apollo' }, seconds(started, plannedAt));
              metrics.graphqlPhase.observe({ phase: 'execute', engine: 'apollo' }, seconds(plannedAt ?? started, now));
            },
          };
        },
      };
    },
  };
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`No URL configured for subgraph ${name}`);
      return new ViewerDataSource(
        name,
        target,
        options.internalSecret,
        options.internalTokenTtlSeconds,
        options.logger,
        http.fetcher,
      );
    },
    logger: options.logger,
    // The gateway sees the operation's context object (each operation of a batch gets its own copy, below).
    experimental_didResolveQueryPlan: ({ requestContext }) =>
      void planned.set(requestContext.context, process.hrtime.bigint()),
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
    plugins: [
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      phases,
    ],
  });
  await apollo.start();
  return {
    name: 'apollo',
    apollo,
    async execute(operation, contextValue): Promise<EngineResult> {
      const response = await apollo.executeOperation(operation, { contextValue: { ...contextValue } });
      if (response.body.kind !== 'single') throw new Error('incremental delivery is not enabled on this gateway');
      return { result: response.body.singleResult, status: response.http.status, headers: response.http.headers };
    },
    async stop() {
      await apollo.stop();
      await http.close();
    },
  };
}

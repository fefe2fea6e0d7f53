import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { REQUEST_ID_HEADER, VIEWER_HEADER, verifyViewerHeader, type Viewer } from './auth';
import { createErrorFormatter } from './errors';
import { createHttpApp, type ReadinessCheck, type RouteHandler } from './http';
import type { Logger } from './logger';

/** What every subgraph's per-request context starts from. */
export interface BaseContext {
  viewer: Viewer;
  requestId: string;
  logger: Logger;
}

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  schema: GraphQLSchema;
  logger: Logger;
  /** Verifies the gateway's signed viewer header. */
  internalSecret: string;
  maxBodyBytes: number;
  /** Adds the subgraph's own per-request parts (fresh DataLoaders, services) to the base context. */
  context: (base: BaseContext) => TContext;
  readiness?: ReadinessCheck[];
  routes?: Record<string, RouteHandler>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestIdOf(req: http.IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * A subgraph's HTTP server: GraphQL at /graphql (only with a valid signed viewer header from the
 * gateway), health at /health/live and /health/ready. Builds everything, listens on nothing.
 */
export function createSubgraphServer<TContext extends BaseContext>(options: SubgraphServerOptions<TContext>) {
  const apollo = new ApolloServer<TContext>({
    schema: options.schema,
    formatError: createErrorFormatter(options.logger, { serviceName: options.name }),
    includeStacktraceInErrorResponses: false,
    // lib/lifecycle.ts owns shutdown: drain HTTP first, then stop Apollo, then close the database.
    stopOnTerminationSignals: false,
    // Subgraphs are internal: only the gateway (which holds the secret) gets past the context check.
    introspection: true,
    csrfPrevention: true,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Inline traces only feed Apollo's hosted metrics, which stay off.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
    ],
  });
  const server = createHttpApp<TContext>({
    apollo,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    readiness: options.readiness,
    routes: options.routes,
    context: async (req, res) => {
      const requestId = requestIdOf(req);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      const header = req.headers[VIEWER_HEADER];
      const viewer = verifyViewerHeader(typeof header === 'string' ? header : undefined, options.internalSecret);
      const logger = options.logger.child({ reqId: requestId, viewer: viewer.userId ?? 'anonymous' });
      return options.context({ viewer, requestId, logger });
    },
  });
  return { apollo, server };
}

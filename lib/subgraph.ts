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
import { REQUEST_ID_HEADER, VIEWER_HEADER, createReplayGuard, verifyViewerHeader, type Viewer } from './auth';
import { createErrorFormatter } from './errors';
import { createHttpApp, sendJson, type ReadinessCheck, type RouteHandler } from './http';
import type { Logger } from './logger';
import { createFixedWindowLimiter } from './rate-limiter';
import { metricsHandler } from './metrics';

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
  /** Calls per minute accepted on the `/internal/*` routes, all callers together; 0 for no limit. @default 600 */
  internalRateLimitPerMinute?: number;
  /** `GET /metrics` (Prometheus) on this service's port, behind `token` when one is set; false leaves it out. @default { enabled: true } */
  metrics?: { enabled: boolean; token?: string };
}

/**
 * A fixed one-minute window shared by every `/internal/*` route of the service: their callers are
 * our own services, so a flood means a leaked header or a bug, and must not become an oracle.
 */
export function limitInternalRoutes(
  routes: Record<string, RouteHandler>,
  perMinute: number,
  now = Date.now,
): Record<string, RouteHandler> {
  if (perMinute <= 0) return routes;
  const limiter = createFixedWindowLimiter({ limit: perMinute, windowMs: 60_000, now });
  const limited =
    (route: RouteHandler): RouteHandler =>
    (req, res, url) => {
      const wait = limiter.take('internal');
      if (wait > 0) return sendJson(res, 429, { error: 'rate limited' }, { 'retry-after': String(wait) });
      return route(req, res, url);
    };
  return Object.fromEntries(
    Object.entries(routes).map(([path, route]) => [path, path.startsWith('/internal/') ? limited(route) : route]),
  );
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
  // A viewer header is for one request to this service: its name, the path and body signed, used once.
  const replay = createReplayGuard();
  const server = createHttpApp<TContext>({
    apollo,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    readiness: options.readiness,
    service: options.name,
    routes: {
      ...limitInternalRoutes(options.routes ?? {}, options.internalRateLimitPerMinute ?? 600),
      ...(options.metrics?.enabled !== false ? { '/metrics': metricsHandler(options.metrics?.token) } : {}),
    },
    trace: { service: options.name, continueTrace: true },
    context: async (req, res, body) => {
      const requestId = requestIdOf(req);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      const header = req.headers[VIEWER_HEADER];
      const request = { audience: options.name, path: req.url ?? '/', body };
      const viewer = verifyViewerHeader(
        typeof header === 'string' ? header : undefined,
        request,
        options.internalSecret,
        { replay },
      );
      const logger = options.logger.child({ reqId: requestId, viewer: viewer.userId ?? 'anonymous' });
      return options.context({ viewer, requestId, logger });
    },
  });
  return { apollo, server };
}

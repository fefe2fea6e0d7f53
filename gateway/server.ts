import '../lib/telemetry';
import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { REQUEST_ID_HEADER, viewerFromAuthorization, type JwtOptions } from '../lib/auth';
import { createErrorFormatter } from '../lib/errors';
import { createHttpApp } from '../lib/http';
import type { Logger } from '../lib/logger';
import { requestIdOf } from '../lib/subgraph';
import type { GatewayContext } from './context';
import { createCors } from './cors';
import { requestLogPlugin } from './plugins/request-log.plugin';
import { ViewerDataSource } from './viewer-data-source';
import { WEBHOOK_ROUTES, createWebhookForward } from './webhook-forward';
import { createRestRoute } from './rest/rest-route';
import { REST_OPERATIONS } from './rest/routes';

export interface GatewayOptions {
  /** The composed supergraph (schema/supergraph.graphql). */
  supergraphSdl: string;
  /** Subgraph name → GraphQL URL; overrides the URLs recorded in the supergraph. */
  subgraphUrls: Record<string, string>;
  jwt: JwtOptions;
  internalSecret: string;
  internalTokenTtlSeconds: number;
  logger: Logger;
  /** Development serves the Sandbox landing page and allows introspection. */
  development: boolean;
  /** Serve the landing page. @default development */
  sandbox?: boolean;
  corsOrigins: string[];
  maxBodyBytes: number;
}

/** The gateway: Apollo Gateway on the static supergraph, JWT → viewer, health, CORS. Builds, never listens. */
export async function createGateway(options: GatewayOptions) {
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`No URL configured for subgraph ${name}`);
      return new ViewerDataSource(name, target, options.internalSecret, options.internalTokenTtlSeconds, options.logger);
    },
    logger: options.logger,
  });
  const sandbox = options.sandbox ?? options.development;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: createErrorFormatter(options.logger),
    includeStacktraceInErrorResponses: false,
    // lib/lifecycle.ts owns shutdown: drain HTTP first, then stop Apollo, then close the database.
    stopOnTerminationSignals: false,
    introspection: options.development,
    csrfPrevention: true,
    plugins: [
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      sandbox
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false, footer: false })
        : ApolloServerPluginLandingPageProductionDefault({ footer: false }),
      requestLogPlugin(),
    ],
  });
  await apollo.start();

  const subgraphHealth = Object.entries(options.subgraphUrls).map(([name, url]) => ({
    name,
    check: async () => {
      const res = await fetch(new URL('/health/live', url), { signal: AbortSignal.timeout(1500) });
      return res.ok;
    },
  }));

  const context = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<GatewayContext> => {
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const viewer = viewerFromAuthorization(req.headers.authorization, options.jwt);
    return { viewer, requestId, logger: options.logger.child({ reqId: requestId, viewer: viewer.userId ?? 'anonymous' }) };
  };
  const webhookRoutes = Object.entries(WEBHOOK_ROUTES)
    .filter(([, { subgraph }]) => options.subgraphUrls[subgraph])
    .map(([route, { subgraph, methods }]) => [route, createWebhookForward(() => new URL(route, options.subgraphUrls[subgraph]).toString(), options.logger, methods)] as const);
  const restRoutes = Object.entries(REST_OPERATIONS).map(([route, operation]) => [route, createRestRoute(operation, apollo, context)] as const);

  const server = createHttpApp<GatewayContext>({
    apollo,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    readiness: subgraphHealth,
    before: createCors({ origins: options.corsOrigins, development: options.development }),
    routes: Object.fromEntries([...webhookRoutes, ...restRoutes]),
    context,
  });
  return { apollo, server, gateway };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;

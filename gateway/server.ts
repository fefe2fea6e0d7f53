import '../lib/telemetry';
import type http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { REQUEST_ID_HEADER, type JwtOptions, type Viewer } from '../lib/auth';
import { AppError, RateLimitedError, createErrorFormatter } from '../lib/errors';
import { createHttpApp, operationCountOf } from '../lib/http';
import type { Logger } from '../lib/logger';
import { requestIdOf } from '../lib/subgraph';
import { createApiKeyVerifier } from './auth/api-key-verifier';
import { createAuthenticator } from './auth/authenticator';
import type { GatewayContext } from './context';
import { createCors } from './cors';
import type { GatewayLimits } from './limits/limits-config';
import { limitsPlugin, withTokenLimitCode } from './limits/limits.plugin';
import { manifestApqCache, persistedOnlyPlugin } from './limits/persisted-only.plugin';
import { clientAddress, createRateLimiter } from './limits/rate-limiter';
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
  /** HS256 secret (development), issuer, audience, clock tolerance. */
  jwt: JwtOptions;
  /** The identity provider's JWKS: only RS256/ES256 tokens from it are accepted when set. */
  jwksUrl?: string;
  /** How long an API key answer from listings is reused (the revocation delay). @default 30 */
  apiKeyCacheSeconds?: number;
  internalSecret: string;
  internalTokenTtlSeconds: number;
  logger: Logger;
  /** Development serves the Sandbox landing page and allows introspection. */
  development: boolean;
  /** Serve the landing page. @default development */
  sandbox?: boolean;
  corsOrigins: string[];
  maxBodyBytes: number;
  /** Serve HTTPS (with HSTS) with this certificate and key. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Depth, cost, aliases, tokens, batch size, persisted-only mode, rate limits. */
  limits: GatewayLimits;
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
  const limits = options.limits;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: withTokenLimitCode(createErrorFormatter(options.logger)),
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: limits.maxTokens },
    allowBatchedHttpRequests: limits.maxBatchSize > 1,
    // APQ: clients may send a sha256 instead of the text once registered; persisted-only mode
    // answers from the manifest and registers nothing.
    persistedQueries: limits.persistedOperations ? { cache: manifestApqCache(limits.persistedOperations), ttl: null } : {},
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
      limitsPlugin(limits.operation),
      ...(limits.persistedOperations ? [persistedOnlyPlugin(limits.persistedOperations)] : []),
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

  const listingsUrl = options.subgraphUrls.listings;
  const authenticate = createAuthenticator({
    jwt: options.jwt,
    jwksUrl: options.jwksUrl,
    apiKeys: listingsUrl
      ? createApiKeyVerifier({ listingsUrl: () => listingsUrl, internalSecret: options.internalSecret, cacheSeconds: options.apiKeyCacheSeconds ?? 30 })
      : undefined,
  });
  const perIp = createRateLimiter({ perMinute: limits.rate.perIp });
  const perViewer = createRateLimiter({ perMinute: limits.rate.perViewer });
  /** Signed-in callers count against their own bucket; anonymous ones and failed sign-ins against their address's. */
  const rateLimit = (req: http.IncomingMessage, viewer: Viewer | null) => {
    const wait = viewer?.apiKey
      ? perViewer.take(`apikey:${viewer.apiKey.id}`, operationCountOf(req))
      : viewer?.userId
      ? perViewer.take(`viewer:${viewer.userId}`, operationCountOf(req))
      : perIp.take(`ip:${clientAddress(req, limits.rate.trustProxyHops)}`, operationCountOf(req));
    if (wait > 0) throw new RateLimitedError(wait);
  };

  const context = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<GatewayContext> => {
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let viewer: Viewer;
    try {
      viewer = await authenticate(req.headers);
    } catch (err) {
      rateLimit(req, null);
      // The identity provider's keys or listings (API keys) could not be reached: our outage, 503.
      if (err instanceof AppError && err.code === 'SERVICE_UNAVAILABLE') {
        Object.assign(err.extensions, { http: { status: 503, headers: new HeaderMap([['retry-after', '5']]) } });
      }
      throw err;
    }
    rateLimit(req, viewer);
    return { viewer, requestId, logger: options.logger.child({ reqId: requestId, viewer: viewer.apiKey ? `apikey:${viewer.apiKey.id}` : (viewer.userId ?? 'anonymous') }) };
  };
  const webhookRoutes = Object.entries(WEBHOOK_ROUTES)
    .filter(([, { subgraph }]) => options.subgraphUrls[subgraph])
    .map(([route, { subgraph, methods }]) => [route, createWebhookForward(() => new URL(route, options.subgraphUrls[subgraph]).toString(), options.logger, methods)] as const);
  const restRoutes = Object.entries(REST_OPERATIONS).map(([route, operation]) => [route, createRestRoute(operation, apollo, context)] as const);

  const server = createHttpApp<GatewayContext>({
    apollo,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    maxBatchSize: limits.maxBatchSize,
    tls: options.tls,
    readiness: subgraphHealth,
    before: createCors({ origins: options.corsOrigins, development: options.development }),
    routes: Object.fromEntries([...webhookRoutes, ...restRoutes]),
    context,
  });
  return { apollo, server, gateway };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;

import '../lib/telemetry';
import { parse, validate } from 'graphql';
import type http from 'node:http';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { HeaderMap } from '@apollo/server';
import { REQUEST_ID_HEADER, type JwtOptions, type Viewer } from '../lib/auth';
import { AppError, RateLimitedError, createErrorFormatter } from '../lib/errors';
import { createHttpApp, sendJson, sendNotFound, type ReadinessCheck } from '../lib/http';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { requestIdOf } from '../lib/subgraph';
import { createApiKeyVerifier } from './auth/api-key-verifier';
import { createAuthenticator } from './auth/authenticator';
import type { GatewayContext } from './context';
import { createCors } from './cors';
import { createApolloEngine } from './engines/apollo.engine';
import type { GatewayEngine } from './engines/engine';
import { createHiveEngine } from './engines/hive.engine';
import { createAdmission } from './front-door/admission';
import { createFrontDoor, operationCountOf } from './front-door/front-door';
import type { GatewayLimits } from './limits/limits-config';
import { clientAddress } from './limits/rate-limiter';
import { memoryRateLimits, type RateLimitStore } from '../lib/client-rate-limits';
import { loadSupergraph } from './supergraph';
import { WEBHOOK_ROUTES, createWebhookForward } from './webhook-forward';
import { paypalPageRoutes } from './paypal-pages';
import { createSitemapForward, sitemapTarget } from './sitemap-forward';
import { createRestRoute, restNotFound } from './rest/rest-route';
import { explorerRoutes } from './explorer';
import { openApiJson } from './rest/openapi';
import { REST_OPERATIONS } from './rest/routes';

export interface GatewayOptions {
  /** The composed supergraph (schema/supergraph.graphql, or SUPERGRAPH_PATH). */
  supergraphSdl: string;
  /** Subgraph name → GraphQL URL; overrides the URLs recorded in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** What executes operations behind the front door. @default apollo */
  engine?: 'apollo' | 'hive';
  /** hive: identical subgraph queries in flight at once share one fetch. @default true */
  dedupe?: boolean;
  /** Keep-alive connections held open to each subgraph. @default 64 */
  subgraphConnections?: number;
  /** HS256 secret (development), issuer, audience, clock tolerance. */
  jwt: JwtOptions;
  /** The identity provider's JWKS: only RS256/ES256 tokens from it are accepted when set. */
  jwksUrl?: string;
  /** How long an API key answer from listings is reused (the revocation delay). @default 30 */
  apiKeyCacheSeconds?: number;
  internalSecret: string;
  internalTokenTtlSeconds: number;
  logger: Logger;
  /** Development serves the Sandbox landing page, allows introspection and shows "Did you mean" hints. */
  development: boolean;
  /** Serve the landing page. @default development */
  sandbox?: boolean;
  corsOrigins: string[];
  maxBodyBytes: number;
  /** Serve HTTPS (with HSTS) with this certificate and key. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Depth, cost, aliases, directives, tokens, batch size, persisted-only mode, rate limits. */
  limits: GatewayLimits;
  /** Where rate limits count: this process (default), or Redis shared by every instance. The gateway closes it on stop. */
  rateLimits?: RateLimitStore;
}

/** Health probes a load balancer or orchestrator makes; they get their own rate budget. */
const HEALTH_ROUTES = new Set(['/health/live', '/health/ready']);

/**
 * The gateway: an engine-neutral front door (CORS, rate limits on every route, sign-in, the
 * admission checks) in front of an engine that plans and executes over the subgraphs, plus the
 * REST facade, webhook forwarding and health. Builds, never listens.
 */
export async function createGateway(options: GatewayOptions) {
  const limits = options.limits;
  const supergraph = loadSupergraph(options.supergraphSdl);
  const subgraphUrls = Object.fromEntries(
    supergraph.subgraphs.map(({ name, url }) => [name, options.subgraphUrls[name] ?? url]),
  );
  const formatError = createErrorFormatter(options.logger, { hideSuggestions: !options.development });
  const engineOptions = {
    supergraphSdl: options.supergraphSdl,
    subgraphUrls,
    internalSecret: options.internalSecret,
    internalTokenTtlSeconds: options.internalTokenTtlSeconds,
    logger: options.logger,
    formatError,
    introspection: options.development,
    fetch: { connectionsPerSubgraph: options.subgraphConnections },
  };
  const engine: GatewayEngine =
    options.engine === 'hive'
      ? await createHiveEngine({ ...engineOptions, apiSchema: supergraph.apiSchema, dedupe: options.dedupe })
      : await createApolloEngine(engineOptions);

  // Each subgraph's own readiness: unreachable is down (the gateway is not ready); reachable but not
  // ready (its database away) degrades, naming what it lacks, while the other subgraphs still serve.
  const subgraphHealth = Object.entries(options.subgraphUrls).map(
    ([name, url]): ReadinessCheck => ({
      name,
      kind: 'subgraph',
      check: async () => {
        const res = await fetch(new URL('/health/ready', url), { signal: AbortSignal.timeout(1500) });
        const body = (await res.json().catch(() => null)) as { checks?: Record<string, string> } | null;
        if (res.ok || res.status === 404) return { state: 'up' }; // a subgraph of another supergraph may have no health route: it answered
        const lacking = Object.entries(body?.checks ?? {})
          .filter(([, state]) => state === 'down')
          .map(([dependency]) => dependency);
        return {
          state: 'degraded',
          detail: `answers but is not ready${lacking.length ? `: ${lacking.join(', ')} down` : ''}`,
        };
      },
    }),
  );

  const listingsUrl = options.subgraphUrls.listings;
  const authenticate = createAuthenticator({
    jwt: options.jwt,
    jwksUrl: options.jwksUrl,
    apiKeys: listingsUrl
      ? createApiKeyVerifier({
          listingsUrl: () => listingsUrl,
          internalSecret: options.internalSecret,
          cacheSeconds: options.apiKeyCacheSeconds ?? 30,
        })
      : undefined,
  });
  const rateLimits = options.rateLimits ?? memoryRateLimits();
  // Counting where the configuration says from the first request; a Redis that is not there yet
  // leaves each instance counting on its own (logged) until it is.
  if (!(await rateLimits.ready()))
    options.logger.warn('rate limits: Redis not reachable at start; counting per process until it is');
  const perIp = rateLimits.limiter('ip', limits.rate.perIp);
  const perViewer = rateLimits.limiter('viewer', limits.rate.perViewer);
  const webhooks = rateLimits.limiter('webhooks', limits.rate.webhooksPerIp);
  const health = rateLimits.limiter('health', limits.rate.healthPerIp);
  const addressOf = (req: http.IncomingMessage) => `ip:${clientAddress(req, limits.rate.trustProxyHops)}`;
  /** Signed-in callers count against their own bucket; anonymous ones and failed sign-ins against their address's. */
  const rateLimit = async (req: http.IncomingMessage, viewer: Viewer | null) => {
    const wait = await (viewer?.apiKey
      ? perViewer.take(`apikey:${viewer.apiKey.id}`, operationCountOf(req))
      : viewer?.userId
        ? perViewer.take(`viewer:${viewer.userId}`, operationCountOf(req))
        : perIp.take(addressOf(req), operationCountOf(req)));
    if (wait > 0) throw new RateLimitedError(wait);
  };
  /**
   * Routes that need no sign-in are limited per address before anything else runs: webhooks (their
   * own, larger budget: providers retry on 429), health probes (their own), and everything else
   * that is neither GraphQL nor the REST facade (unsubscribe links, unknown paths) on the anonymous budget.
   */
  const routeRateLimit = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): Promise<boolean> => {
    if (pathname === '/graphql' || pathname === '/' || REST_OPERATIONS[pathname]) return false; // limited once the caller is known
    const limiter = pathname.startsWith('/webhooks/') ? webhooks : HEALTH_ROUTES.has(pathname) ? health : perIp;
    const wait = await limiter.take(addressOf(req));
    if (wait === 0) return false;
    const error = new RateLimitedError(wait);
    metrics.refused.inc({ code: error.code });
    sendJson(
      res,
      429,
      { errors: [{ message: error.message, extensions: { code: error.code, retryAfterSeconds: wait } }] },
      { 'retry-after': String(wait) },
    );
    return true;
  };

  const context = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<GatewayContext> => {
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let viewer: Viewer;
    try {
      viewer = await authenticate(req.headers);
    } catch (err) {
      await rateLimit(req, null);
      // The identity provider's keys or listings (API keys) could not be reached: our outage, 503.
      if (err instanceof AppError && err.code === 'SERVICE_UNAVAILABLE') {
        Object.assign(err.extensions, { http: { status: 503, headers: new HeaderMap([['retry-after', '5']]) } });
      }
      throw err;
    }
    await rateLimit(req, viewer);
    return {
      viewer,
      requestId,
      logger: options.logger.child({
        reqId: requestId,
        viewer: viewer.apiKey ? `apikey:${viewer.apiKey.id}` : (viewer.userId ?? 'anonymous'),
      }),
    };
  };

  const sandbox = options.sandbox ?? options.development;
  const landing = sandbox
    ? await ApolloServerPluginLandingPageLocalDefault({
        embed: true,
        includeCookies: false,
        footer: false,
      }).serverWillStart?.({} as never)
    : undefined;
  const landingPage =
    landing && 'renderLandingPage' in landing && landing.renderLandingPage
      ? await landing.renderLandingPage()
      : undefined;
  const admission = createAdmission({
    schema: supergraph.apiSchema,
    limits: limits.operation,
    maxTokens: limits.maxTokens,
    persistedOperations: limits.persistedOperations,
    introspection: options.development,
  });
  const graphql = createFrontDoor({
    engine,
    admission,
    context,
    formatError,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    maxBatchSize: limits.maxBatchSize,
    landingPage: landingPage
      ? async () => (typeof landingPage.html === 'string' ? landingPage.html : landingPage.html())
      : undefined,
  });

  const webhookRoutes = Object.entries(WEBHOOK_ROUTES)
    .filter(([, { subgraph }]) => options.subgraphUrls[subgraph])
    .map(
      ([route, spec]) =>
        [
          route,
          createWebhookForward(
            () => new URL(route, options.subgraphUrls[spec.subgraph]).toString(),
            options.logger,
            spec,
          ),
        ] as const,
    );
  // The REST facade is SayPro's: served when the supergraph has what every route's document asks
  // (a gateway in front of another supergraph, as the gateway benchmark runs it, has no REST paths).
  const restOffBecause = Object.values(REST_OPERATIONS)
    .flatMap((operation) => validate(supergraph.apiSchema, parse(operation.document)))
    .map((error) => error.message)[0];
  if (restOffBecause)
    options.logger.info({ reason: restOffBecause }, 'REST facade off: this supergraph lacks what its routes need');
  const restOperations = restOffBecause ? {} : REST_OPERATIONS;
  const restRoutes = Object.entries(restOperations).map(
    ([route, operation]) => [route, createRestRoute(operation, engine, context, supergraph.apiSchema)] as const,
  );
  // An unknown path under a seed prefix answers in the REST shape, naming the endpoints there are.
  // The REST facade's OpenAPI document, as `npm run schema` writes it to schema/openapi.json.
  const openApi = restOffBecause ? undefined : openApiJson(supergraph.apiSchema);
  const openApiRoute =
    openApi &&
    ((_req: http.IncomingMessage, res: http.ServerResponse) =>
      void res
        .writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(openApi),
          'cache-control': 'no-cache',
        })
        .end(openApi));
  const restPrefixes = [...new Set(Object.keys(restOperations).map((route) => route.split('/')[1]))].map(
    (p) => `/${p}/`,
  );
  const cors = createCors({ origins: options.corsOrigins, development: options.development });
  // The public sitemap (issue 15), from the seo subgraph when the supergraph has one.
  const sitemap = subgraphUrls.seo ? createSitemapForward(() => subgraphUrls.seo!, options.logger) : undefined;

  const server = createHttpApp<GatewayContext>({
    service: 'gateway',
    graphql,
    logger: options.logger,
    maxBodyBytes: options.maxBodyBytes,
    tls: options.tls,
    readiness: subgraphHealth,
    live: { engine: engine.name },
    trace: { service: 'gateway', continueTrace: false },
    before: async (req, res) =>
      cors(req, res) || (await routeRateLimit(req, res, new URL(req.url ?? '/', 'http://localhost').pathname)),
    // GraphiQL and the REST docs from the installed packages (they work offline), where the Sandbox page is served.
    routes: {
      ...Object.fromEntries([...webhookRoutes, ...restRoutes]),
      ...(openApiRoute ? { '/openapi.json': openApiRoute } : {}),
      ...(sandbox ? explorerRoutes('/graphql') : {}),
      // PayPal's return and cancel pages stand in for the frontend's where the explorer is served (development).
      ...(sandbox && subgraphUrls.payments ? paypalPageRoutes('/graphiql') : {}),
    },
    notFound: (req, res, url) =>
      sitemap && sitemapTarget(url.pathname)
        ? sitemap(req, res, url)
        : restPrefixes.some((prefix) => url.pathname.startsWith(prefix))
          ? restNotFound(res, url.pathname, Object.keys(restOperations))
          : sendNotFound(res, url.pathname),
  });
  /** Stops the engine and closes the rate-limit store (after the HTTP server drained). */
  const stop = async () => {
    await engine.stop();
    await rateLimits.close();
  };
  return { engine, server, admission, subgraphUrls, rateLimits, stop };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;

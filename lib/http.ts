import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext, type ContextThunk } from '@apollo/server';
import { ServiceUnavailableError, isDatabaseUnavailable } from './errors';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { traceRequests } from './tracing';

/** A plain route beside GraphQL: health checks, webhooks, the REST facade. */
export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void> | void;

export type DependencyState = 'up' | 'degraded' | 'down';

export interface ReadinessCheck {
  name: string;
  /** What the dependency is, in the answer's `dependencies`. @default task */
  kind?: 'database' | 'queue' | 'provider' | 'subgraph' | 'task';
  /** Resolves when healthy; rejects (or resolves false) otherwise; or names the state itself, with a detail. */
  check: () => Promise<boolean | void | { state: DependencyState; detail?: string }>;
  /** Reported as `degraded` when failing, without making the service unready (e.g. a provider's open circuit). */
  degradesOnly?: boolean;
}

/** One dependency in a readiness answer: the same shape in every service. */
export interface DependencyHealth {
  name: string;
  kind: NonNullable<ReadinessCheck['kind']>;
  state: DependencyState;
  /** Why it is not up, or what else is worth knowing (a circuit's state). */
  detail?: string;
  /** How long the check took. */
  ms: number;
}

export interface HttpAppOptions<TContext extends BaseContext> {
  /** Serves GraphQL through Apollo Server's HTTP entry point (the subgraphs)… */
  apollo?: ApolloServer<TContext>;
  /** Builds the GraphQL context from the request and its raw body; throwing a GraphQLError answers with it (e.g. 401). */
  context?: (req: http.IncomingMessage, res: http.ServerResponse, rawBody: Buffer) => Promise<TContext>;
  /** …or with this handler of its own (the gateway's front door). */
  graphql?: RouteHandler;
  /** More for `/health/live` to say, beside `status: ok` (the gateway names its engine). */
  live?: Record<string, string>;
  /** How long a readiness answer is reused, so probes never fan out once per request. @default 1000 */
  readinessCacheMs?: number;
  logger: Logger;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  readiness?: ReadinessCheck[];
  /** Exact-path routes; `/health/live` and `/health/ready` are always present. */
  routes?: Record<string, RouteHandler>;
  /** Runs before routing, e.g. CORS; returning true means the response was sent. */
  before?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
  /** Path GraphQL is served at. @default /graphql */
  graphqlPath?: string;
  /** Answers a path no route has (the gateway answers its REST prefixes in the REST shape); the default is a GraphQL-shaped 404. */
  notFound?: RouteHandler;
  /** Most operations in a batched (JSON array) request; larger batches get 400 BATCH_TOO_LARGE. @default 1 */
  maxBatchSize?: number;
  /** Serve HTTPS with this certificate chain and key (PEM), and send HSTS on every response. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** The `service` label of this server's request metrics and readiness answers. @default app */
  service?: string;
  /** A server span per request (when tracing is on) for this service; `continueTrace` joins the caller's `traceparent`. */
  trace?: { service: string; continueTrace: boolean };
}

/** HSTS for a year, subdomains included: once a browser saw it over HTTPS it never tries plain HTTP. */
export const HSTS = 'max-age=31536000; includeSubDomains';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'BAD_REQUEST',
    /** The request field it is about, when there is one (the REST facade names it in its answer). */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** The GraphQL-shaped 404 for a path no route has. */
export function sendNotFound(res: http.ServerResponse, pathname: string): void {
  sendJson(res, 404, { errors: [{ message: `No route ${pathname}`, extensions: { code: 'NOT_FOUND' } }] });
}

/** Reads the raw body, refusing more than `limit` bytes with 413 before buffering it all. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `Request body larger than ${limit} bytes`, 'PAYLOAD_TOO_LARGE');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `Request body larger than ${limit} bytes`, 'PAYLOAD_TOO_LARGE');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseJsonBody(req: http.IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json') && !type.startsWith('application/graphql-response+json')) {
    // Apollo answers non-JSON POSTs itself (CSRF prevention, 400); hand it the text.
    return raw.toString('utf8');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'Malformed JSON body', 'BAD_REQUEST');
  }
}

/** Serves one GraphQL request through Apollo Server's HTTP-agnostic entry point. */
async function serveGraphQL<TContext extends BaseContext>(
  options: HttpAppOptions<TContext>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const raw = req.method === 'POST' ? await readBody(req, options.maxBodyBytes) : Buffer.alloc(0);
  const body = req.method === 'POST' ? parseJsonBody(req, raw) : undefined;
  if (Array.isArray(body)) {
    const max = options.maxBatchSize ?? 1;
    if (body.length > max)
      throw new HttpError(
        400,
        `A batch may hold at most ${max} operation${max === 1 ? '' : 's'}; this one has ${body.length}`,
        'BATCH_TOO_LARGE',
      );
  }
  const context: ContextThunk<TContext> = () => options.context!(req, res, raw);
  const response = await options.apollo!.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
    context,
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

async function readiness(
  checks: ReadinessCheck[],
): Promise<{ ok: boolean; checks: Record<string, DependencyState>; dependencies: DependencyHealth[] }> {
  const dependencies = await Promise.all(
    checks.map(async ({ name, kind = 'task', check, degradesOnly }): Promise<DependencyHealth> => {
      const started = Date.now();
      let state: DependencyState;
      let detail: string | undefined;
      try {
        const answer = (await Promise.race([
          check(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref()),
        ])) as boolean | void | { state: DependencyState; detail?: string };
        if (answer && typeof answer === 'object') ({ state, detail } = answer);
        else state = answer === false ? (degradesOnly ? 'degraded' : 'down') : 'up';
      } catch (err) {
        state = degradesOnly ? 'degraded' : 'down';
        detail = (err as Error)?.message?.slice(0, 200) || 'failed';
      }
      return { name, kind, state, ...(detail ? { detail } : {}), ms: Date.now() - started };
    }),
  );
  return {
    ok: dependencies.every((d) => d.state !== 'down'),
    checks: Object.fromEntries(dependencies.map((d) => [d.name, d.state])),
    dependencies,
  };
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Servers that are shutting down: their readiness answers 503 so a balancer stops sending. */
const draining = new WeakSet<http.Server>();

export function createHttpApp<TContext extends BaseContext>(options: HttpAppOptions<TContext>): http.Server {
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const serve = options.graphql ?? ((req, res, url) => serveGraphQL(options, req, res, url));
  const cacheMs = options.readinessCacheMs ?? 1000;
  const service = options.service ?? 'app';
  let lastReadiness: { at: number; answer: ReturnType<typeof readiness> } | undefined;
  /** One fan-out to the checks at a time, reused for `cacheMs`: concurrent probes share it. */
  const cachedReadiness = () => {
    const now = Date.now();
    if (!lastReadiness || now - lastReadiness.at >= cacheMs)
      lastReadiness = { at: now, answer: readiness(options.readiness ?? []) };
    return lastReadiness.answer;
  };
  const routes: Record<string, RouteHandler> = {
    '/health/live': (_req, res) => sendJson(res, 200, { status: 'ok', ...options.live }),
    '/health/ready': async (_req, res) => {
      if (draining.has(server))
        return sendJson(res, 503, { status: 'draining', service, checks: {}, dependencies: [] });
      const result = await cachedReadiness();
      sendJson(res, result.ok ? 200 : 503, {
        status: result.ok ? 'ok' : 'unavailable',
        service,
        checks: result.checks,
        dependencies: result.dependencies,
      });
    },
    ...options.routes,
  };

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // The route label is a known route's path, never the raw one (ids, probes of random paths).
    let httpRoute = 'unmatched';
    const stopTimer = metrics.httpDuration.startTimer({
      service,
      http_request_method: METHODS.has(req.method ?? '') ? req.method! : 'OTHER',
    });
    res.once('close', () => stopTimer({ http_route: httpRoute, http_response_status_code: String(res.statusCode) }));
    try {
      if (options.tls) res.setHeader('strict-transport-security', HSTS);
      if (await options.before?.(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = routes[url.pathname];
      if (route) {
        httpRoute = url.pathname;
        return await route(req, res, url);
      }
      if (url.pathname === graphqlPath || (graphqlPath === '/graphql' && url.pathname === '/')) {
        httpRoute = graphqlPath;
        return await serve(req, res, url);
      }
      if (options.notFound) return await options.notFound(req, res, url);
      sendNotFound(res, url.pathname);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] });
        return;
      }
      if (isDatabaseUnavailable(err)) {
        // A webhook or REST call while the database is away: the sender retries on 503.
        const unavailable = new ServiceUnavailableError('database');
        options.logger.warn({ error: (err as Error).message, url: req.url }, 'database unavailable: 503');
        sendJson(
          res,
          503,
          { errors: [{ message: unavailable.message, extensions: unavailable.extensions }] },
          { 'retry-after': '5' },
        );
        return;
      }
      options.logger.error({ err, url: req.url }, 'request failed');
      sendJson(res, 500, {
        errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
    }
  };
  const traced = traceRequests(options.trace?.service, handler, {
    continueTrace: options.trace?.continueTrace ?? false,
    known: (p) => p in routes || p === graphqlPath,
  });
  // An https.Server has the http.Server API (listen, close, keep-alive, closeAllConnections).
  const server = options.tls
    ? (https.createServer({ cert: options.tls.cert, key: options.tls.key }, traced) as unknown as http.Server)
    : http.createServer(traced);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 60_000;
  return server;
}

export function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops what is left. */
export async function closeServer(server: http.Server, graceMs: number): Promise<void> {
  draining.add(server);
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}

export function urlOf(address: AddressInfo, path = '/graphql', protocol: 'http' | 'https' = 'http'): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${protocol}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}${path}`;
}

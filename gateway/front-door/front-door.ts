import type http from 'node:http';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HttpError, parseJsonBody, readBody, type RouteHandler } from '../../lib/http';
import type { Logger } from '../../lib/logger';
import { boundedLabel, metrics } from '../../lib/metrics';
import { traceOperation } from '../../lib/tracing';
import type { GatewayContext } from '../context';
import type { GatewayEngine } from '../engines/engine';
import type { Admission, AdmittedOperation } from './admission';
import { checkCsrf, graphqlRequestsOf } from './http-request';

export interface FrontDoorOptions {
  engine: GatewayEngine;
  admission: Admission;
  /** Signs the caller in and takes their rate-limit tokens (one per operation); throws a GraphQLError to refuse. */
  context: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<GatewayContext>;
  /** Shapes the front door's own refusals as every other error is shaped. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  logger: Logger;
  maxBodyBytes: number;
  /** Most operations in a batched (JSON array) request; 1 turns batching off. */
  maxBatchSize: number;
  /** The page a browser gets at the GraphQL URL (the Sandbox in development). */
  landingPage?: () => Promise<string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';

interface HttpHead {
  status?: number;
  /** A map (Apollo's HeaderMap) or a plain object (the shape graphql-yoga declares). */
  headers?: Iterable<[string, string]> | Record<string, string>;
}

const headOf = (error: unknown): HttpHead => ((error as GraphQLError).extensions?.http as HttpHead | undefined) ?? {};
const entriesOf = (headers: HttpHead['headers']): Iterable<[string, string]> =>
  !headers ? [] : Symbol.iterator in headers ? (headers as Iterable<[string, string]>) : Object.entries(headers);

/** The media type the client asked for: the GraphQL-over-HTTP one when it prefers it, else JSON. */
function contentTypeFor(req: http.IncomingMessage): string {
  const accept = req.headers.accept ?? '';
  const graphql = accept.indexOf('application/graphql-response+json');
  const json = accept.indexOf('application/json');
  return graphql >= 0 && (json < 0 || graphql < json) ? GRAPHQL_RESPONSE_TYPE : JSON_TYPE;
}

function wantsLandingPage(req: http.IncomingMessage, url: URL): boolean {
  if (req.method !== 'GET' || url.searchParams.has('query') || url.searchParams.has('extensions')) return false;
  return (req.headers.accept ?? '').includes('text/html');
}

/**
 * The GraphQL route of the gateway: everything before execution, in one place and cheapest first,
 * then the engine. Body and batch limits, CSRF, sign-in and the rate limit (per operation), then
 * the admission checks (text resolution, token limit, persisted-only, operation choice, operation
 * limits, a batch's summed cost); only what passes every check reaches the engine. The answer's
 * shape (status codes, media type, batch arrays) is the front door's, whichever engine ran it.
 */
export function createFrontDoor(options: FrontDoorOptions): RouteHandler {
  const send = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    body: string,
    headers: Iterable<[string, string]> = [],
  ) => {
    for (const [key, value] of headers) res.setHeader(key, value);
    res.writeHead(status, { 'content-type': contentTypeFor(req), 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const refuse = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    error: unknown,
    operations: string[],
    started: bigint,
    logger = options.logger,
  ) => {
    const gqlError =
      error instanceof GraphQLError
        ? error
        : new GraphQLError((error as Error).message, { originalError: error as Error });
    const head = headOf(gqlError);
    const formatted = options.formatError({ message: gqlError.message, extensions: gqlError.extensions }, gqlError);
    const status = head.status ?? (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR' ? 500 : 400);
    send(req, res, status, JSON.stringify({ errors: [formatted] }), entriesOf(head.headers));
    metrics.refused.inc({ code: String(formatted.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
    logRequest(logger, operations, started, status, [formatted]);
  };
  /** Runs one admitted operation and counts it: by name (bounded), type and outcome (ok, or its first error code). */
  const run = async (operation: AdmittedOperation, context: GatewayContext) => {
    const started = process.hrtime.bigint();
    const result = await options.engine.execute(operation, context);
    const code = result.result.errors?.[0]?.extensions?.code;
    const labels = {
      operation_name: operationName(operation.operation.name?.value ?? operation.operationName),
      operation_type: operation.operation.operation,
      outcome: result.result.errors?.length ? String(code ?? 'INTERNAL_SERVER_ERROR') : 'ok',
    };
    metrics.graphqlOperations.inc(labels);
    metrics.graphqlDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  };

  return async (req, res, url) => {
    const started = process.hrtime.bigint();
    if (wantsLandingPage(req, url) && options.landingPage) {
      const html = await options.landingPage();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    if (method !== 'GET' && method !== 'POST') {
      throw new HttpError(405, 'GraphQL is served over GET and POST only', 'METHOD_NOT_ALLOWED');
    }
    let context: GatewayContext | undefined;
    let names: string[] = [];
    try {
      const body = method === 'POST' ? parseJsonBody(req, await readBody(req, options.maxBodyBytes)) : undefined;
      const { requests, batch } = graphqlRequestsOf(method, url, body);
      if (batch && requests.length > options.maxBatchSize) {
        const max = options.maxBatchSize;
        throw new HttpError(
          400,
          `A batch may hold at most ${max} operation${max === 1 ? '' : 's'}; this one has ${requests.length}`,
          'BATCH_TOO_LARGE',
        );
      }
      names = requests.map((r) => r.operationName ?? '');
      checkCsrf(req);
      batchSizes.set(req, requests.length);
      context = await options.context(req, res);
      const admitting = process.hrtime.bigint();
      const admitted = options.admission.admit(requests, method);
      metrics.graphqlPhase.observe(
        { phase: 'admit', engine: options.engine.name },
        Number(process.hrtime.bigint() - admitting) / 1e9,
      );
      const results = await Promise.all(
        admitted.map((op) =>
          traceOperation({ type: op.operation.operation, name: op.operation.name?.value }, () => run(op, context!)),
        ),
      );
      const status = results.find((r) => r.status && r.status !== 200)?.status ?? 200;
      const payload = batch
        ? `[${results.map((r) => JSON.stringify(r.result)).join(',')}]`
        : JSON.stringify(results[0]!.result);
      send(
        req,
        res,
        status,
        payload,
        results.flatMap((r) => [...(r.headers ?? [])]),
      );
      logRequest(
        context.logger,
        names,
        started,
        status,
        results.flatMap((r) => r.result.errors ?? []),
      );
    } catch (err) {
      if (err instanceof HttpError) throw err; // the HTTP layer's own answer (413, 400 malformed JSON)
      refuse(req, res, err, names, started, context?.logger);
    }
  };
}

/** One log line per GraphQL request: operations, duration, status, error codes. Never the variables. */
function logRequest(
  logger: Logger,
  operations: string[],
  started: bigint,
  status: number,
  errors: readonly GraphQLFormattedError[],
) {
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
  const named = operations.filter(Boolean);
  logger.info(
    {
      operation: operations.length > 1 ? named : (named[0] ?? null),
      durationMs: Math.round(durationMs * 10) / 10,
      status,
      errors: codes.length ? codes : undefined,
    },
    'graphql request',
  );
}

/** Operation names are the client's to choose: the first 200 distinct ones get their own series. */
const operationName = boundedLabel(200);

const batchSizes = new WeakMap<http.IncomingMessage, number>();
/** Operations in this GraphQL request: the length of a batched body, else 1 (rate limits count each). */
export const operationCountOf = (req: http.IncomingMessage): number => batchSizes.get(req) ?? 1;

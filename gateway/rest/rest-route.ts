import type http from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { httpStatusFor } from '../../lib/errors';
import { HttpError, readBody, sendJson, type RouteHandler } from '../../lib/http';
import type { GatewayContext } from '../context';
import type { GatewayEngine } from '../engines/engine';

/** One seed REST endpoint as a thin facade over one GraphQL operation. */
export interface RestOperation<TData = any> {
  method: 'GET' | 'POST';
  /** The GraphQL document run for this endpoint. */
  query: string;
  /** Request (query string, JSON body, headers) → operation variables; throw HttpError(400) for a bad request. */
  variables: (input: { query: URLSearchParams; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }) => Record<string, unknown>;
  /** Operation data → the endpoint's JSON response. */
  respond: (data: TData) => unknown;
}

const MAX_REST_BODY = 64 * 1024;

function errorResponse(errors: readonly GraphQLFormattedError[]): { status: number; body: unknown; headers: Record<string, string> } {
  const first = errors[0]!;
  const code = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  const status = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_REQUEST' ? 400 : httpStatusFor(code);
  const retryAfter = first.extensions?.retryAfterSeconds;
  return {
    status,
    headers: typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {},
    body: { error: { code, message: first.message, ...(first.extensions?.field ? { field: first.extensions.field } : {}) } },
  };
}

/**
 * Runs the operation through the gateway itself (same JWT check, same plan, same error masking),
 * so the REST path can never do what the graph would refuse.
 */
export function createRestRoute(
  operation: RestOperation,
  engine: GatewayEngine,
  context: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<GatewayContext>,
): RouteHandler {
  return async (req, res, url) => {
    if (req.method !== operation.method) return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `Use ${operation.method}` } }, { allow: operation.method });
    let contextValue: GatewayContext;
    try {
      contextValue = await context(req, res);
    } catch (err) {
      const extensions = (err as { extensions?: Record<string, unknown> }).extensions ?? {};
      const { status, body, headers } = errorResponse([{ message: (err as Error).message, extensions }]);
      return sendJson(res, status, body, headers);
    }
    let variables: Record<string, unknown>;
    try {
      let body: Record<string, unknown> = {};
      if (operation.method === 'POST') {
        const raw = await readBody(req, MAX_REST_BODY);
        try {
          body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        } catch {
          throw new HttpError(400, 'Malformed JSON body');
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'The body must be a JSON object');
      }
      variables = operation.variables({ query: url.searchParams, body, headers: req.headers });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return sendJson(res, err.status, { error: { code: err.code, message: err.message } });
    }
    const { data, errors } = (await engine.execute({ query: operation.query, variables }, contextValue)).result;
    if (errors?.length) {
      const mapped = errorResponse(errors);
      return sendJson(res, mapped.status, mapped.body, mapped.headers);
    }
    sendJson(res, 200, operation.respond(data));
  };
}

/** A required string field of a REST request, or 400 naming it. */
export function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, `${field} is required`, 'BAD_USER_INPUT');
  return value;
}

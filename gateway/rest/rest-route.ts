import type http from 'node:http';
import { isEnumType, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
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
  /** Operation data → the endpoint's JSON response; null when the operation found nothing (404). */
  respond: (data: TData) => unknown;
  /** What the endpoint reads when it answers 404 for a null result, e.g. `user` (its message names it). */
  subject?: string;
  /** Operation variables whose REST names are not their snake_case (`id` → `transaction_id`), for error fields. */
  renames?: Record<string, string>;
}

const MAX_REST_BODY = 64 * 1024;

/** A GraphQL input path as the REST caller named it: `input.paymentMethodId` → `payment_method_id`. */
function restField(path: string, renames: Record<string, string> = {}): string {
  const name = path.replace(/^input\./, '');
  return renames[name] ?? name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** graphql-js's variable coercion message: `Variable "$input" got invalid value "X" at "input.template"; Value "X" does not exist in "EmailTemplate" enum.` */
const COERCION = /^Variable "\$(\w+)" got invalid value (.*?)(?: at "([\w.]+)")?; (.*)$/s;

function errorResponse(errors: readonly GraphQLFormattedError[], operation?: RestOperation, schema?: GraphQLSchema): { status: number; body: unknown; headers: Record<string, string> } {
  const first = errors[0]!;
  const code = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  const status = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_REQUEST' ? 400 : httpStatusFor(code);
  const retryAfter = first.extensions?.retryAfterSeconds;
  let message = first.message;
  let field = typeof first.extensions?.field === 'string' ? restField(first.extensions.field, operation?.renames) : undefined;
  // A value GraphQL could not coerce (an unknown template): the REST field, and the values it takes.
  const coercion = COERCION.exec(message);
  if (coercion) {
    field = restField(coercion[3] ?? coercion[1]!, operation?.renames);
    const enumName = /in "(\w+)" enum/.exec(coercion[4]!)?.[1];
    const type = enumName ? schema?.getType(enumName) : undefined;
    message = isEnumType(type)
      ? `${field} must be one of ${type.getValues().map((v) => v.name.toLowerCase()).join(', ')}; ${coercion[2]} is not`
      : `${field}: ${coercion[4]}`;
  }
  return {
    status,
    headers: typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {},
    body: { error: { code: coercion ? 'BAD_USER_INPUT' : code, message, ...(field ? { field } : {}) } },
  };
}

/** Every seed endpoint acts for someone: without a token or key the answer is 401 and says how to sign in. */
function signInRequired(res: http.ServerResponse): void {
  sendJson(
    res,
    401,
    { error: { code: 'UNAUTHENTICATED', message: 'Sign in: send Authorization: Bearer <token> (or an X-API-Key header for a key)' } },
    { 'www-authenticate': 'Bearer realm="saypro"' },
  );
}

/**
 * Runs the operation through the gateway itself (same JWT check, same plan, same error masking),
 * so the REST path can never do what the graph would refuse.
 */
export function createRestRoute(
  operation: RestOperation,
  engine: GatewayEngine,
  context: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<GatewayContext>,
  schema?: GraphQLSchema,
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
    if (contextValue.viewer.userId === null && !contextValue.viewer.apiKey) return signInRequired(res);
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
      return sendJson(res, err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
    }
    const { data, errors } = (await engine.execute({ query: operation.query, variables }, contextValue)).result;
    if (errors?.length) {
      const mapped = errorResponse(errors, operation, schema);
      return sendJson(res, mapped.status, mapped.body, mapped.headers);
    }
    const answer = operation.respond(data);
    if (answer === null) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No ${operation.subject ?? 'such item'} with that id, or not one you may see` } });
    sendJson(res, 200, answer);
  };
}

/** The REST answer for a path under a seed prefix that is no endpoint: REST-shaped, naming the endpoints. */
export function restNotFound(res: http.ServerResponse, pathname: string, endpoints: string[]): void {
  sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No endpoint ${pathname}; the REST endpoints are ${endpoints.join(', ')}` } });
}

/** A required string field of a REST request, or 400 naming it. */
export function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, `${field} is required`, 'BAD_USER_INPUT', field);
  return value;
}

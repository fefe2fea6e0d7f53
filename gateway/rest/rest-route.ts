import type http from 'node:http';
import { isEnumType, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { z } from 'zod/v4';
import { httpStatusFor, type ErrorCode } from '../../lib/errors';
import { HttpError, readBody, sendJson, type RouteHandler } from '../../lib/http';
import type { Permission } from '../../lib/permissions';
import type { GatewayContext } from '../context';
import type { GatewayEngine } from '../engines/engine';
import { parseRequest } from './rest-schema';

/** Codes a REST answer may carry: the graph's, and the facade's own for a request it cannot read. */
export type RestErrorCode = ErrorCode | 'BAD_REQUEST' | 'METHOD_NOT_ALLOWED';

// biome-ignore lint/complexity/noBannedTypes: {} is zod's own shape of an object schema with no keys
type NoHeaders = z.ZodObject<{}>;

export function restStatusFor(code: RestErrorCode): number {
  return code === 'BAD_REQUEST' ? 400 : code === 'METHOD_NOT_ALLOWED' ? 405 : httpStatusFor(code);
}

/**
 * One seed REST endpoint as a thin facade over one GraphQL operation, and everything its OpenAPI
 * description says (gateway/rest/openapi.ts builds schema/openapi.json from these alone).
 */
export interface RestOperation<
  Req extends z.ZodObject = any,
  Hdr extends z.ZodObject = NoHeaders,
  Res extends z.ZodType = any,
  TData = any,
> {
  method: 'GET' | 'POST';
  /** One line for the docs page's list. */
  summary: string;
  description: string;
  /** The permission the operation checks: its rule (lib/permissions.ts) documents who may call, and with which API key scope. */
  permission: Permission;
  /** GET: the query string; POST: the JSON body. Validates the request and documents it. */
  request: Req;
  /** Request headers it reads (besides the credentials). */
  headers?: Hdr;
  /** The 200 answer. */
  response: Res;
  /** Codes this endpoint answers beyond those every endpoint may (see `commonErrors`). */
  errors: readonly RestErrorCode[];
  /** The GraphQL document run for this endpoint. */
  document: string;
  /** The validated request → operation variables. */
  variables: (request: z.output<Req>, headers: z.output<Hdr>) => Record<string, unknown>;
  /** Operation data → the endpoint's JSON answer; null when the operation found nothing (404). */
  respond: (data: TData) => z.input<Res> | null;
  /** What the endpoint reads when it answers 404 for a null result, e.g. `user` (its message names it). */
  subject?: string;
  /** Operation variables whose REST names are not their snake_case (`id` → `transaction_id`), for error fields. */
  renames?: Record<string, string>;
}

/** Checks one endpoint's definition against its own schemas (the variables take what the request schema gives, the answer is the response's). */
export const restOperation = <
  Req extends z.ZodObject,
  Res extends z.ZodType,
  TData,
  Hdr extends z.ZodObject = NoHeaders,
>(
  operation: RestOperation<Req, Hdr, Res, TData>,
): RestOperation => operation;

/** What any endpoint may answer: no credential, too many requests, a service away, a request it cannot read. */
export function commonErrors(operation: RestOperation): RestErrorCode[] {
  return [
    'BAD_USER_INPUT',
    ...(operation.method === 'POST' ? (['BAD_REQUEST', 'PAYLOAD_TOO_LARGE'] as const) : []),
    'UNAUTHENTICATED',
    ...(operation.subject ? (['NOT_FOUND'] as const) : []),
    'METHOD_NOT_ALLOWED',
    'RATE_LIMITED',
    'INTERNAL_SERVER_ERROR',
    'SERVICE_UNAVAILABLE',
  ];
}

/** Every code an endpoint may answer, by HTTP status. */
export function errorsByStatus(operation: RestOperation): Map<number, RestErrorCode[]> {
  const byStatus = new Map<number, RestErrorCode[]>();
  for (const code of new Set([...commonErrors(operation), ...operation.errors])) {
    const status = restStatusFor(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

const MAX_REST_BODY = 64 * 1024;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A GraphQL input path as the REST caller named it: `input.paymentMethodId` → `payment_method_id`.
 * Only the first segment is a REST name; below it (`data.listingTitle`) the caller's own keys stay.
 */
function restField(path: string, renames: Record<string, string> = {}): string {
  const [name, ...rest] = path.replace(/^input\./, '').split('.');
  return [renames[name!] ?? snake(name!), ...rest].join('.');
}

/** A graph message in REST words: the operation's camelCase names (`idempotencyKey was already used`) as the request spells them. */
function restMessage(message: string, operation?: RestOperation): string {
  if (!operation) return message;
  const names = Object.keys(operation.request.shape).filter((name) => name.includes('_'));
  const graphNames = new Map(names.map((name) => [name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), name]));
  for (const [graphName, restName] of Object.entries(operation.renames ?? {}))
    if (/[A-Z]/.test(graphName)) graphNames.set(graphName, restName);
  return graphNames.size
    ? message.replace(new RegExp(`\\b(${[...graphNames.keys()].join('|')})\\b`, 'g'), (name) => graphNames.get(name)!)
    : message;
}

/** graphql-js's variable coercion message: `Variable "$input" got invalid value "X" at "input.template"; Value "X" does not exist in "EmailTemplate" enum.` */
const COERCION = /^Variable "\$(\w+)" got invalid value (.*?)(?: at "([\w.]+)")?; (.*)$/s;

function errorResponse(
  errors: readonly GraphQLFormattedError[],
  operation?: RestOperation,
  schema?: GraphQLSchema,
): { status: number; body: unknown; headers: Record<string, string> } {
  const first = errors[0]!;
  const code = String(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  const status = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_REQUEST' ? 400 : httpStatusFor(code);
  const retryAfter = first.extensions?.retryAfterSeconds;
  let message = restMessage(first.message, operation);
  let field =
    typeof first.extensions?.field === 'string' ? restField(first.extensions.field, operation?.renames) : undefined;
  // A value GraphQL could not coerce (an unknown template): the REST field, and the values it takes.
  const coercion = COERCION.exec(first.message);
  if (coercion) {
    field = restField(coercion[3] ?? coercion[1]!, operation?.renames);
    const enumName = /in "(\w+)" enum/.exec(coercion[4]!)?.[1];
    const type = enumName ? schema?.getType(enumName) : undefined;
    message = isEnumType(type)
      ? `${field} must be one of ${type
          .getValues()
          .map((v) => v.name.toLowerCase())
          .join(', ')}; ${coercion[2]} is not`
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
    {
      error: {
        code: 'UNAUTHENTICATED',
        message: 'Sign in: send Authorization: Bearer <token> (or an X-API-Key header for a key)',
      },
    },
    { 'www-authenticate': 'Bearer realm="saypro"' },
  );
}

/** The JSON body of a POST: an object, or 400 BAD_REQUEST. */
async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_REST_BODY);
  let body: unknown;
  try {
    body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    throw new HttpError(400, 'Malformed JSON body');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'The body must be a JSON object');
  return body as Record<string, unknown>;
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
    if (req.method !== operation.method)
      return sendJson(
        res,
        405,
        { error: { code: 'METHOD_NOT_ALLOWED', message: `Use ${operation.method}` } },
        { allow: operation.method },
      );
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
      const input = operation.method === 'POST' ? await readJsonObject(req) : Object.fromEntries(url.searchParams);
      const headers = operation.headers ? parseRequest(operation.headers, req.headers) : {};
      variables = operation.variables(parseRequest(operation.request, input), headers);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return sendJson(res, err.status, {
        error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) },
      });
    }
    const { data, errors } = (await engine.execute({ query: operation.document, variables }, contextValue)).result;
    if (errors?.length) {
      const mapped = errorResponse(errors, operation, schema);
      return sendJson(res, mapped.status, mapped.body, mapped.headers);
    }
    const answer = operation.respond(data);
    if (answer === null)
      return sendJson(res, 404, {
        error: {
          code: 'NOT_FOUND',
          message: `No ${operation.subject ?? 'such item'} with that id, or not one you may see`,
        },
      });
    sendJson(res, 200, answer);
  };
}

/** The REST answer for a path under a seed prefix that is no endpoint: REST-shaped, naming the endpoints. */
export function restNotFound(res: http.ServerResponse, pathname: string, endpoints: string[]): void {
  sendJson(res, 404, {
    error: { code: 'NOT_FOUND', message: `No endpoint ${pathname}; the REST endpoints are ${endpoints.join(', ')}` },
  });
}

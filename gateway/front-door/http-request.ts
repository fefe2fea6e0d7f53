import type http from 'node:http';
import { GraphQLError } from 'graphql';
import type { GraphQLRequestBody } from './admission';

/** Content types a browser may send cross-site without a preflight (Apollo's CSRF rule). */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'];

const badRequest = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

/**
 * Refuses what a browser could send from another site without a CORS preflight: a GET, or a POST
 * of a simple content type, without one of the preflight headers (the same rule as Apollo Server's
 * csrfPrevention, so clients that work with Apollo work here).
 */
export function checkCsrf(req: http.IncomingMessage): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type && !SIMPLE_CONTENT_TYPES.includes(type)) return;
  if (PREFLIGHT_HEADERS.some((h) => typeof req.headers[h] === 'string' && req.headers[h] !== '')) return;
  throw badRequest(
    `This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header ` +
      `(with a type that is not one of ${SIMPLE_CONTENT_TYPES.join(', ')}) or provide a non-empty value for one of the following headers: ` +
      `${PREFLIGHT_HEADERS.join(', ')}`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One request's fields, checked for type: anything else is the client's mistake, 400. */
function requestOf(raw: unknown): GraphQLRequestBody {
  if (!isObject(raw))
    throw badRequest(
      'A GraphQL request is a JSON object with `query`, and optionally `operationName`, `variables` and `extensions`',
    );
  const { query, operationName, variables, extensions } = raw;
  if (query !== undefined && query !== null && typeof query !== 'string') throw badRequest('`query` must be a string');
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    throw badRequest('`operationName` must be a string');
  if (variables !== undefined && variables !== null && !isObject(variables))
    throw badRequest('`variables` must be an object');
  if (extensions !== undefined && extensions !== null && !isObject(extensions))
    throw badRequest('`extensions` must be an object');
  return {
    query: query ?? undefined,
    operationName: operationName ?? undefined,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
    extensions: (extensions ?? undefined) as Record<string, unknown> | undefined,
  };
}

function jsonParam(params: URLSearchParams, name: string): unknown {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`The \`${name}\` parameter must be JSON`);
  }
}

/**
 * The GraphQL requests of one HTTP request: a POST's JSON body (an object, or an array when
 * batching) or a GET's query parameters. `body` is the parsed JSON (or the raw text for another
 * content type, which is refused).
 */
export function graphqlRequestsOf(
  method: string,
  url: URL,
  body: unknown,
): { requests: GraphQLRequestBody[]; batch: boolean } {
  if (method === 'GET') {
    const p = url.searchParams;
    return {
      batch: false,
      requests: [
        requestOf({
          query: p.get('query') ?? undefined,
          operationName: p.get('operationName') ?? undefined,
          variables: jsonParam(p, 'variables'),
          extensions: jsonParam(p, 'extensions'),
        }),
      ],
    };
  }
  if (typeof body === 'string' || body === undefined) {
    throw badRequest('POST body missing, invalid Content-Type, or JSON object has no keys.');
  }
  if (Array.isArray(body)) {
    if (body.length === 0) throw badRequest('A batch must hold at least one operation');
    return { batch: true, requests: body.map(requestOf) };
  }
  return { batch: false, requests: [requestOf(body)] };
}

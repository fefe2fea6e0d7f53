import { isEnumType, type GraphQLSchema } from 'graphql';
import { z } from 'zod/v4';
import { openTo, PERMISSIONS, type Rule } from '../../lib/permissions';
import { errorsByStatus, type RestErrorCode, type RestOperation } from './rest-route';
import { GRAPHQL_ENUM, type RestEnumSource } from './rest-schema';
import { REST_OPERATIONS } from './routes';

/**
 * The REST facade as an OpenAPI 3.1 document, built from the route definitions alone (their zod
 * schemas, permissions and error codes) and the API schema (for the values of enums the facade
 * passes through). `npm run schema` writes it to schema/openapi.json; the gateway serves it at /openapi.json.
 */
export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, any>>;
  components: Record<string, any>;
};
type JsonSchema = Record<string, any>;

/** What each code means to a REST caller, for the error responses' descriptions. */
const MEANING: Partial<Record<RestErrorCode, string>> = {
  BAD_USER_INPUT: 'a field was refused; `field` names it as the request did',
  BAD_REQUEST: 'the body is not a JSON object',
  PAYLOAD_TOO_LARGE: 'the body is over 64 KiB',
  UNAUTHENTICATED: 'no credential, or one that does not verify (WWW-Authenticate says how to sign in)',
  FORBIDDEN: 'signed in, but this is not yours to do (the message names who may)',
  NOT_FOUND: 'nothing with that id, or nothing you may see',
  CONFLICT: 'the state does not allow it (already paid, a key used for another request)',
  PAYMENT_REQUIRED: 'a change that would raise what is owed',
  METHOD_NOT_ALLOWED: 'another HTTP method (Allow names it)',
  RATE_LIMITED: 'too many requests; come back after Retry-After seconds',
  PROVIDER_UNAVAILABLE:
    'Stripe, SendGrid or HubSpot is away; nothing was lost, retry with the same idempotency key after Retry-After',
  SERVICE_UNAVAILABLE: 'one of our services is away; retry after Retry-After',
  INTERNAL_SERVER_ERROR: 'our fault; the message hides the details, the x-request-id header finds them in the logs',
};
const RETRY_AFTER = { 'retry-after': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } };

/** `/payments/transaction-status` → `paymentsTransactionStatus`: a client's method name. */
const operationId = (path: string) =>
  path
    .split(/[/-]/)
    .filter(Boolean)
    .map((part, i) => (i === 0 ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join('');

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output', api: GraphQLSchema): JsonSchema {
  const json: JsonSchema = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    override: ({ jsonSchema }) => {
      const source = (jsonSchema as JsonSchema)[GRAPHQL_ENUM] as RestEnumSource | undefined;
      if (!source) return;
      const type = api.getType(source.name);
      if (!isEnumType(type)) throw new Error(`REST enum ${source.name} is no enum of the API schema`);
      const rest = (value: string) => source.renames?.[value] ?? (source.keepCase ? value : value.toLowerCase());
      (jsonSchema as JsonSchema).enum = type
        .getValues()
        .map((v) => rest(v.name))
        .sort();
      delete (jsonSchema as JsonSchema)[GRAPHQL_ENUM];
    },
  });
  delete json.$schema;
  return json;
}

/** Query-string or header parameters from an object schema: one per property. */
function parameters(schema: z.ZodObject, location: 'query' | 'header', api: GraphQLSchema): JsonSchema[] {
  const json = jsonSchemaOf(schema, 'input', api);
  const required = new Set<string>(json.required ?? []);
  return Object.entries(json.properties as Record<string, JsonSchema>).map(([name, { description, ...property }]) => ({
    name,
    in: location,
    required: required.has(name),
    ...(description ? { description } : {}),
    schema: property,
  }));
}

/** The error answer of one status: its codes, and (for 400) `field` as one of the request's own names. */
function errorSchema(codes: RestErrorCode[], fields: string[]): JsonSchema {
  const field = z
    .string()
    .regex(new RegExp(`^(${fields.join('|')})(\\.|$)`))
    .meta({
      description: `The request field it is about, by its REST name: ${fields.join(', ')} (or a path inside one, e.g. data.name).`,
    });
  const error = z.object({
    code: z.enum(codes as [RestErrorCode, ...RestErrorCode[]]),
    message: z.string().meta({ description: 'What went wrong and what to do, in words.' }),
    ...(fields.length ? { field: field.optional() } : {}),
  });
  const { $schema: _, ...schema } = z.toJSONSchema(z.object({ error }), { target: 'draft-2020-12', io: 'output' });
  return schema;
}

function operationObject(
  path: string,
  operation: RestOperation,
  api: GraphQLSchema,
  schemas: Record<string, JsonSchema>,
): JsonSchema {
  const id = operationId(path);
  const rule: Rule = PERMISSIONS[operation.permission];
  const fields = Object.keys(operation.request.shape);
  schemas[`${id[0]!.toUpperCase()}${id.slice(1)}Response`] = jsonSchemaOf(operation.response, 'output', api);
  const responses: Record<string, JsonSchema> = {
    200: {
      description: operation.summary,
      content: {
        'application/json': { schema: { $ref: `#/components/schemas/${id[0]!.toUpperCase()}${id.slice(1)}Response` } },
      },
    },
  };
  for (const [status, codes] of errorsByStatus(operation)) {
    const schema = errorSchema(codes, status === 400 ? fields : []);
    responses[status] = {
      description: codes.map((code) => (MEANING[code] ? `${code}: ${MEANING[code]}` : code)).join('; '),
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
      ...(status === 401
        ? { headers: { 'www-authenticate': { description: 'How to sign in.', schema: { type: 'string' } } } }
        : {}),
      ...(status === 405
        ? { headers: { allow: { description: 'The method to use.', schema: { type: 'string' } } } }
        : {}),
      content: { 'application/json': { schema } },
    };
  }
  return {
    operationId: id,
    tags: [path.split('/')[1]],
    summary: operation.summary,
    description: `${operation.description}\n\nWho may: ${openTo(rule)} (the \`${operation.permission}\` permission).`,
    security: [{ bearerAuth: [] }, ...(rule.scope ? [{ apiKey: [rule.scope] }] : [])],
    parameters: [
      ...(operation.method === 'GET' ? parameters(operation.request, 'query', api) : []),
      ...(operation.headers ? parameters(operation.headers, 'header', api) : []),
    ],
    ...(operation.method === 'POST'
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchemaOf(operation.request, 'input', api) } },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(
  api: GraphQLSchema,
  operations: Record<string, RestOperation> = REST_OPERATIONS,
): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = {};
  const paths = Object.fromEntries(
    Object.entries(operations).map(([path, operation]) => [
      path,
      { [operation.method.toLowerCase()]: operationObject(path, operation, api, schemas) },
    ]),
  );
  return {
    openapi: '3.1.1',
    info: {
      title: 'SayPro Graph REST facade',
      version: '1.0.0',
      description:
        "The seed's REST endpoints, each a thin facade over one operation of the GraphQL API at /graphql (same sign-in, same checks, same codes). " +
        'Names are snake_case; an error is `{ "error": { "code", "message", "field"? } }` with the HTTP status of its code. ' +
        'Generated from the route definitions in gateway/rest/ by `npm run schema`.',
    },
    servers: [{ url: '/', description: 'This gateway' }],
    tags: [
      { name: 'payments', description: 'Posting fees, charged through Stripe.' },
      { name: 'email', description: 'Mail through SendGrid, and campaigns.' },
      { name: 'crm', description: 'Users in HubSpot.' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A user token: `Authorization: Bearer <token>` (in development, `npm run token -- --user <id>`).',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description:
            'An API key (createApiKey in the graph), which may do what its scopes open; `Authorization: ApiKey <key>` works too.',
        },
      },
    },
  };
}

/** The document as schema/openapi.json holds it. */
export const openApiJson = (api: GraphQLSchema): string => JSON.stringify(openApiDocument(api), null, 2) + '\n';

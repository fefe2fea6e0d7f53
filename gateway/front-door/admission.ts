import {
  GraphQLError,
  Kind,
  getVariableValues,
  parse,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { ErrorCode, LimitExceededError } from '../../lib/errors';
import { canonicalOperation, sha256Hex, type PersistedOperations } from '../../lib/persisted-operations';
import { measureOperation, type OperationShape, type ShapeLimits } from '../limits/operation-shape';

/** One GraphQL request as a client sent it (a POST body, one entry of a batch, or a GET's parameters). */
export interface GraphQLRequestBody {
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** A request the front door let through: full text (never only a hash), one operation chosen, within every limit. */
export interface AdmittedOperation {
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
  /** The client's extensions less `persistedQuery` (the text was resolved here). */
  extensions?: Record<string, unknown>;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  cost: number;
}

export interface OperationLimits {
  /** Deepest field nesting. @default 10 */
  maxDepth: number;
  /** Largest estimated cost (fields × page sizes) of one request; a batch's operations add up. @default 10000 */
  maxCost: number;
  /** Most aliased fields in one operation. @default 15 */
  maxAliases: number;
  /** Most directives in one operation, counted at every use. @default 50 */
  maxDirectives: number;
  /** Page size assumed for a paginated field without `first`, and for an unpaginated list. @default 20 */
  defaultListSize: number;
}

export interface AdmissionOptions {
  /** The API schema clients see (the supergraph's, without federation's types). */
  schema: GraphQLSchema;
  limits: OperationLimits;
  /** Most lexical tokens in a document; parsing stops there. */
  maxTokens: number;
  /** Only these operations run, when set (GRAPHQL_PERSISTED_ONLY): sha256 of the canonical text → text. */
  persistedOperations?: PersistedOperations;
  /** Allow `__schema` / `__type` (development). */
  introspection: boolean;
  /** Documents kept parsed, and APQ texts kept by hash. @default 1000 */
  cacheSize?: number;
}

type Parsed = { document: DocumentNode; allowed?: Map<string | undefined, boolean> };

const TOKEN_LIMIT = /Document contains more tha[nt] (\d+) tokens/; // graphql 16 spells it "more that"

export class PersistedQueryNotFoundError extends GraphQLError {
  constructor() {
    // The message is the APQ protocol's: Apollo Client and others match on it to send the text.
    super('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 200 } } });
  }
}

const badRequest = (message: string, code: string = 'BAD_REQUEST', status = 400) =>
  new GraphQLError(message, { extensions: { code, http: { status } } });

/**
 * The front door's checks of a GraphQL request, cheapest first and before any subgraph is called:
 * the text is resolved (APQ hash or the persisted manifest), parsed under the token limit (cached
 * by text), refused outside the manifest in persisted-only mode, one operation chosen (an unknown
 * or missing operationName is the client's mistake, 400), introspection refused when off, and the
 * operation measured in linear time against depth, aliases, directives and cost, with the
 * variables coerced as execution will see them (defaults included). A batch's costs add up.
 * Engine-neutral: what it returns is what any engine runs.
 */
export function createAdmission(options: AdmissionOptions) {
  const cacheSize = options.cacheSize ?? 1000;
  const documents = new LRUCache<string, Parsed>({ max: cacheSize });
  const apq = new LRUCache<string, string>({ max: cacheSize });
  const manifest = options.persistedOperations;
  const manifestTexts = manifest ? new Set(Object.values(manifest)) : undefined;
  const { limits } = options;

  const resolveText = (request: GraphQLRequestBody): string => {
    const pq = request.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
    if (pq !== undefined) {
      if (typeof pq !== 'object' || pq === null || pq.version !== 1 || typeof pq.sha256Hash !== 'string') {
        throw badRequest('Unsupported persistedQuery extension: version 1 with a sha256Hash is supported');
      }
      const hash = pq.sha256Hash.toLowerCase();
      if (request.query === undefined) {
        const known = manifest ? manifest[hash] : apq.get(hash);
        if (known === undefined) throw new PersistedQueryNotFoundError();
        return known;
      }
      if (sha256Hex(request.query) !== hash) throw badRequest('provided sha does not match query');
      // Registered once it passes every check (below); persisted-only mode registers nothing.
      return request.query;
    }
    if (typeof request.query !== 'string' || request.query.trim() === '') {
      throw badRequest('GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.');
    }
    return request.query;
  };

  const parseText = (text: string): Parsed => {
    const cached = documents.get(text);
    if (cached) return cached;
    let document: DocumentNode;
    try {
      document = parse(text, { maxTokens: options.maxTokens, noLocation: false });
    } catch (err) {
      const message = (err as Error).message;
      const tokens = TOKEN_LIMIT.exec(message);
      if (tokens)
        throw new LimitExceededError(
          'TOO_MANY_TOKENS',
          `The document has more than ${tokens[1]} tokens`,
          Number(tokens[1]),
        );
      throw badRequest(message, 'GRAPHQL_PARSE_FAILED');
    }
    const parsed: Parsed = { document };
    documents.set(text, parsed);
    return parsed;
  };

  const chooseOperation = (document: DocumentNode, operationName: string | undefined): OperationDefinitionNode => {
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (operations.length === 0) throw badRequest('The document has no operation', 'GRAPHQL_VALIDATION_FAILED');
    if (operationName === undefined) {
      if (operations.length > 1) {
        throw badRequest(
          `The document has ${operations.length} operations: say which to run with operationName`,
          ErrorCode.OPERATION_NAME_REQUIRED,
        );
      }
      return operations[0]!;
    }
    const named = operations.find((o) => o.name?.value === operationName);
    if (!named)
      throw badRequest(`The document has no operation named "${operationName}"`, ErrorCode.OPERATION_NOT_FOUND);
    return named;
  };

  const checkPersisted = (
    text: string,
    parsed: Parsed,
    operation: OperationDefinitionNode,
    operationName: string | undefined,
  ) => {
    if (!manifest) return;
    if (manifestTexts!.has(text)) return;
    parsed.allowed ??= new Map();
    let allowed = parsed.allowed.get(operationName);
    if (allowed === undefined) {
      allowed = manifest[sha256Hex(canonicalOperation(parsed.document, operation))] !== undefined;
      parsed.allowed.set(operationName, allowed);
    }
    if (!allowed)
      throw new LimitExceededError(
        'PERSISTED_QUERY_REQUIRED',
        'Only the operations of the published client manifest are accepted here',
      );
  };

  /**
   * The walk stops at the first figure past its limit, so a refusal names the limit, not the
   * figure (it would only be a lower bound). A batch's costs add up.
   */
  const refuseShape = (shape: OperationShape, costSoFar: number, batch: boolean) => {
    const passed = (key: keyof ShapeLimits, figure: number, limit: number) => shape.stoppedAt === key || figure > limit;
    if (passed('depth', shape.depth, limits.maxDepth)) {
      throw new LimitExceededError(
        'QUERY_TOO_DEEP',
        `Query depth exceeds the limit of ${limits.maxDepth}`,
        limits.maxDepth,
      );
    }
    if (passed('aliases', shape.aliases, limits.maxAliases)) {
      throw new LimitExceededError(
        'TOO_MANY_ALIASES',
        `Aliases exceed the limit of ${limits.maxAliases}`,
        limits.maxAliases,
      );
    }
    if (passed('directives', shape.directives, limits.maxDirectives)) {
      throw new LimitExceededError(
        'TOO_MANY_DIRECTIVES',
        `Directives exceed the limit of ${limits.maxDirectives}`,
        limits.maxDirectives,
      );
    }
    if (passed('cost', costSoFar + shape.cost, limits.maxCost)) {
      throw new LimitExceededError(
        'QUERY_TOO_COSTLY',
        `${batch ? 'The batch’s cost' : 'Query cost'} exceeds the limit of ${limits.maxCost}; ask for smaller pages (first) or fewer nested lists`,
        limits.maxCost,
      );
    }
  };

  const admitOne = (
    request: GraphQLRequestBody,
    costSoFar: number,
    batch: boolean,
    method: string,
  ): AdmittedOperation => {
    const text = resolveText(request);
    const parsed = parseText(text);
    const operation = chooseOperation(parsed.document, request.operationName);
    checkPersisted(text, parsed, operation, request.operationName);
    if (method === 'GET' && operation.operation !== 'query') {
      throw new GraphQLError(`GET requests only support query operations, not ${operation.operation} operations`, {
        extensions: { code: 'BAD_REQUEST', http: { status: 405, headers: { allow: 'POST' } } },
      });
    }
    // Coerced as execution will coerce them; a value that does not coerce fails execution anyway,
    // and its cost is then measured with the defaults alone.
    const coerced = getVariableValues(options.schema, operation.variableDefinitions ?? [], request.variables ?? {}, {
      maxErrors: 1,
    });
    const variables = coerced.coerced ?? {};
    const shape = measureOperation(options.schema, parsed.document, operation, variables, {
      defaultListSize: limits.defaultListSize,
      stopAt: {
        depth: limits.maxDepth,
        aliases: limits.maxAliases,
        directives: limits.maxDirectives,
        cost: limits.maxCost - costSoFar,
      },
    });
    refuseShape(shape, costSoFar, batch);
    if (shape.introspects && !options.introspection) {
      throw badRequest(
        'Introspection is off on this gateway; the schema is published as schema/api.graphql',
        'GRAPHQL_VALIDATION_FAILED',
      );
    }
    const { persistedQuery, ...extensions } = request.extensions ?? {};
    if (persistedQuery && request.query !== undefined && !manifest) apq.set(sha256Hex(text), text);
    return {
      query: text,
      operationName: request.operationName,
      variables: request.variables ?? {},
      extensions: Object.keys(extensions).length ? extensions : undefined,
      document: parsed.document,
      operation,
      cost: shape.cost,
    };
  };

  return {
    /** Admits every operation of a request or refuses the whole request with the first refusal. */
    admit(requests: GraphQLRequestBody[], method: string): AdmittedOperation[] {
      let cost = 0;
      return requests.map((request) => {
        const admitted = admitOne(request, cost, requests.length > 1, method);
        cost += admitted.cost;
        return admitted;
      });
    },
    /** Parsed documents held (tests and metrics). */
    get cachedDocuments() {
      return documents.size;
    },
  };
}
export type Admission = ReturnType<typeof createAdmission>;

import '../../lib/telemetry';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { Logger as HiveLogger, type LogWriter } from '@graphql-hive/logger';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import http from '@graphql-mesh/transport-http';
import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { ANONYMOUS, REQUEST_ID_HEADER } from '../../lib/auth';
import { ErrorCode, ServiceUnavailableError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { traceCall } from '../../lib/tracing';
import type { GatewayContext } from '../context';
import type { AdmittedOperation } from '../front-door/admission';
import { UNSIGNED_VIEWER, badInputOf, signedForFetch } from '../viewer-data-source';
import type { EngineOperation, EngineResult, GatewayEngine } from './engine';
import type { EngineOptions } from './apollo.engine';
import { createSubgraphFetcher } from './subgraph-fetcher';
import { metrics } from '../../lib/metrics';

export interface HiveEngineOptions extends EngineOptions {
  /** The API schema clients see: documents are validated against it, as Apollo Server does. */
  apiSchema: GraphQLSchema;
  /** Share one subgraph fetch between identical queries in flight at once (same viewer, same body). @default true */
  dedupe?: boolean;
}

/** What the transport attaches to a failed subgraph fetch (a refused connection, a non-JSON or 5xx answer). */
interface SubgraphFailure {
  code?: string;
  serviceName?: string;
  response?: { status?: number; body?: unknown };
}

const TERMINATE_EVENTS = ['SIGINT', 'SIGTERM', 'exit'];
const processEvents: NodeJS.EventEmitter = process;
const UNREACHABLE = new Set(['SUBREQUEST_HTTP_ERROR', 'RESPONSE_VALIDATION_FAILED', 'DOWNSTREAM_SERVICE_ERROR']);
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * `GATEWAY_ENGINE=hive`: Hive Gateway's runtime with the Rust query planner
 * (`@graphql-hive/router-runtime`), called in-process behind the same front door. It plans and
 * executes; the front door has already done HTTP, sign-in, limits and persisted operations, and
 * documents are validated here against the API schema with graphql-js's rules, so refusals read
 * exactly as Apollo's. Each subgraph fetch carries the viewer header signed for that subgraph,
 * that path and those bytes; the viewer itself is attached before the transport takes its
 * deduplication key, so two viewers' fetches are never merged.
 */
export async function createHiveEngine(options: HiveEngineOptions): Promise<GatewayEngine> {
  const pool = createSubgraphFetcher(options.fetch, options.subgraphUrls);
  // The viewer goes on in onSubgraphExecute, before the transport takes its deduplication key (two
  // viewers' fetches never share); it is signed in the fetch over the exact bytes sent.
  const withViewer: GatewayPlugin = {
    onSubgraphExecute({ executionRequest, setExecutionRequest }) {
      const viewer = (executionRequest.context as Partial<GatewayContext> | undefined)?.viewer ?? ANONYMOUS;
      const headers = {
        ...(executionRequest.extensions?.headers as Record<string, string> | undefined),
        [UNSIGNED_VIEWER]: JSON.stringify(viewer),
      };
      setExecutionRequest({ ...executionRequest, extensions: { ...executionRequest.extensions, headers } });
    },
  };
  const subgraphOfUrl = new Map(Object.entries(options.subgraphUrls).map(([name, url]) => [url, name]));
  const before = TERMINATE_EVENTS.map((event) => new Set(processEvents.listeners(event)));
  const runtime = createGatewayRuntime<GatewayContext>({
    supergraph: options.supergraphSdl,
    unifiedGraphHandler,
    transports: { http },
    transportEntries: {
      '*.http': { options: { deduplicateInflightRequests: options.dedupe ?? true } },
      ...Object.fromEntries(Object.entries(options.subgraphUrls).map(([name, location]) => [name, { location }])),
    },
    fetchAPI: {
      // The request id goes on here, after the deduplication key was taken: it differs per request,
      // and in the key it would keep one viewer's identical fetches from ever sharing. (The viewer
      // header goes on before, in onSubgraphExecute: two viewers' fetches must never share.)
      fetch: (url: string, init?: RequestInit, context?: Partial<GatewayContext>) => {
        const audience = subgraphOfUrl.get(url);
        if (!audience) throw new Error(`the hive engine fetched ${url}, which is no subgraph of the supergraph`);
        const body = init?.body as string | Uint8Array | undefined;
        const headers = signedForFetch(
          (init?.headers ?? {}) as Record<string, string>,
          { audience, url, body },
          options.internalSecret,
          options.internalTokenTtlSeconds,
        );
        if (context?.requestId) headers[REQUEST_ID_HEADER] = context.requestId;
        const send = (traceparent: Record<string, string>) =>
          pool.fetcher(url, { ...init, headers: { ...headers, ...traceparent } } as never);
        return traceCall(audience, { method: init?.method, url }, send) as unknown as Promise<Response>;
      },
    },
    logging: new HiveLogger({ level: 'warn', writers: [pinoWriter(options.logger.child({ engine: 'hive' }))] }),
    maskedErrors: false,
    landingPage: false,
    graphiql: false,
    // The front door sets and logs the request id.
    requestId: false,
    plugins: () => [withViewer],
  });
  // The runtime disposes itself on SIGTERM/SIGINT (hard-wired in Hive's runtime), which would abort
  // the operations lib/lifecycle.ts is still draining: shutdown is ours, in order (stop() below).
  TERMINATE_EVENTS.forEach((event, i) => {
    for (const listener of processEvents.listeners(event))
      if (!before[i]!.has(listener)) processEvents.removeListener(event, listener as () => void);
  });

  // The REST facade's operations come as text: parsed once each.
  const parsedTexts = new Map<string, DocumentNode>();
  const documentOf = (operation: EngineOperation): DocumentNode => {
    const admitted = (operation as Partial<AdmittedOperation>).document;
    if (admitted) return admitted;
    let document = parsedTexts.get(operation.query);
    if (!document) {
      document = parse(operation.query);
      if (parsedTexts.size < 1000) parsedTexts.set(operation.query, document);
    }
    return document;
  };
  const validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  const validationErrorsOf = (document: DocumentNode) => {
    let errors = validated.get(document);
    if (!errors) {
      errors = validate(options.apiSchema, document, specifiedRules);
      validated.set(document, errors);
    }
    return errors;
  };

  /** A failed subgraph fetch as the apollo engine reports it: SERVICE_UNAVAILABLE, BAD_USER_INPUT, or masked. */
  const shapeSubgraphError = (error: GraphQLError): GraphQLError => {
    const failure = error.extensions as SubgraphFailure;
    if (failure?.code === ErrorCode.BAD_USER_INPUT && failure.serviceName && error.message.startsWith('Variable "$')) {
      // The subgraph's 400 for a variable it refused while coercing (Hive passes its error on).
      const refused = badInputOf({ errors: [{ message: error.message, extensions: { code: failure.code } }] });
      if (refused) return replacing(refused, error);
    }
    if (!failure?.code || !UNREACHABLE.has(failure.code)) return error;
    const status = failure.response?.status;
    const subgraph = failure.serviceName ?? 'subgraph';
    if (status === undefined || UNAVAILABLE_STATUSES.has(status)) {
      options.logger.warn({ subgraph, err: error.message, status }, 'subgraph unavailable');
      return replacing(new ServiceUnavailableError(subgraph), error);
    }
    if (status === 400) {
      const refused = badInputOf(failure.response?.body);
      if (refused) return replacing(refused, error);
    }
    if (status === 401) {
      options.logger.error(
        { subgraph },
        'subgraph refused the signed viewer header: is INTERNAL_SECRET the same on both?',
      );
    }
    return replacing(new Error(`subgraph ${subgraph} failed`), error);
  };

  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => {
      const shaped = shapeSubgraphError(error);
      return options.formatError(shaped.toJSON(), shaped.originalError ?? shaped);
    });

  return {
    name: 'hive',
    async execute(operation: EngineOperation, contextValue: GatewayContext): Promise<EngineResult> {
      const document = documentOf(operation);
      const validating = process.hrtime.bigint();
      const invalid = validationErrorsOf(document);
      metrics.graphqlPhase.observe(
        { phase: 'validate', engine: 'hive' },
        Number(process.hrtime.bigint() - validating) / 1e9,
      );
      if (invalid.length) {
        const errors = invalid.map(
          (e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
        );
        return { result: { errors: format(errors) }, status: 400 };
      }
      // Variables that do not coerce are refused before execution, 400, as Apollo Server does.
      const definitions = getOperationAST(document, operation.operationName)?.variableDefinitions ?? [];
      const coerced = getVariableValues(options.apiSchema, definitions, operation.variables ?? {}, { maxErrors: 50 });
      if (coerced.errors) {
        const errors = coerced.errors.map(
          (e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } }),
        );
        return { result: { errors: format(errors) }, status: 400 };
      }
      const schema = await runtime.getSchema();
      const { contextFactory, execute } = runtime.getEnveloped({ request: undefined, params: operation });
      const context = await contextFactory({ ...contextValue });
      // The Rust planner plans inside execute (and caches plans): `execute` includes planning here.
      const executing = metrics.graphqlPhase.startTimer({ phase: 'execute', engine: 'hive' });
      const result = (await execute({
        schema,
        document,
        operationName: operation.operationName,
        variableValues: operation.variables,
        contextValue: context,
      })) as ExecutionResult | AsyncIterable<ExecutionResult>;
      executing();
      if (Symbol.asyncIterator in result) throw new Error('incremental delivery is not enabled on this gateway');
      const errors = result.errors?.length ? format(result.errors) : undefined;
      // Execution ran, so `data` is present (null when a non-null root failed); errors first, as the
      // spec suggests and Apollo serialises them.
      const body = { ...(errors ? { errors } : {}), data: result.data ?? null };
      return { result: body };
    },
    async stop() {
      await runtime.dispose();
      await pool.close();
    },
  };
}

/**
 * Our error in place of the engine's, at its locations. Without a path: @apollo/gateway reports a
 * failed fetch for the whole request, not at one field, and both engines answer alike.
 */
function replacing(replacement: Error, original: GraphQLError): GraphQLError {
  return new GraphQLError(replacement.message, {
    nodes: original.nodes,
    source: original.source,
    positions: original.positions,
    originalError: replacement,
    extensions: replacement instanceof GraphQLError ? replacement.extensions : undefined,
  });
}

/**
 * Hive's log lines into our pino logger. (@graphql-hive/logger ships a pino writer, but only as a
 * subpath export that this project's CommonJS module resolution cannot name.)
 */
function pinoWriter(logger: Logger): LogWriter {
  return { write: (level, attrs, msg) => logger[level]((attrs ?? {}) as object, msg ?? '') };
}

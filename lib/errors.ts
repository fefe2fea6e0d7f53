import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from './logger';
import { metrics } from './metrics';

/**
 * Stable string codes a client can switch on. Every error a client sees carries one in
 * `extensions.code`; anything else is masked as INTERNAL_SERVER_ERROR.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  // A change that would raise what is owed (a listing moved to a category with a higher posting fee).
  PAYMENT_REQUIRED: 'PAYMENT_REQUIRED',
  PROVIDER_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  // Abuse limits at the gateway (gateway/limits/).
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  QUERY_TOO_COSTLY: 'QUERY_TOO_COSTLY',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
  // A document with several operations and no operationName, or an operationName it does not have.
  OPERATION_NAME_REQUIRED: 'OPERATION_NAME_REQUIRED',
  OPERATION_NOT_FOUND: 'OPERATION_NOT_FOUND',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  PERSISTED_QUERY_REQUIRED: 'PERSISTED_QUERY_REQUIRED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYMENT_REQUIRED: 402,
  PROVIDER_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
  QUERY_TOO_DEEP: 400,
  QUERY_TOO_COSTLY: 400,
  TOO_MANY_ALIASES: 400,
  TOO_MANY_DIRECTIVES: 400,
  OPERATION_NAME_REQUIRED: 400,
  OPERATION_NOT_FOUND: 400,
  TOO_MANY_TOKENS: 400,
  PAYLOAD_TOO_LARGE: 413,
  BATCH_TOO_LARGE: 400,
  RATE_LIMITED: 429,
  PERSISTED_QUERY_REQUIRED: 400,
};

export function httpStatusFor(code: string | undefined): number {
  return (code && HTTP_STATUS[code as ErrorCode]) || 500;
}

/** The one error type our code raises for clients. `extensions` holds only what is safe to show. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extensions } });
    this.name = 'AppError';
  }
}

export interface FieldProblem {
  /** Path of the offending field inside the argument, e.g. `title` or `price.amount`. */
  field: string;
  message: string;
}

export class BadUserInputError extends AppError {
  constructor(problems: FieldProblem[] | FieldProblem, argumentName?: string) {
    const list = Array.isArray(problems) ? problems : [problems];
    const first = list[0];
    super(ErrorCode.BAD_USER_INPUT, first ? first.message : 'Invalid input', {
      field: first?.field,
      ...(argumentName ? { argument: argumentName } : {}),
      fields: list,
    });
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required') {
    super(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'Not allowed') {
    super(ErrorCode.FORBIDDEN, message);
  }
}
export class NotFoundError extends AppError {
  constructor(entity: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${entity} ${id} not found`, { entity, id });
  }
}
export class ConflictError extends AppError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(ErrorCode.CONFLICT, message, extensions);
  }
}
export class PaymentRequiredError extends AppError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(ErrorCode.PAYMENT_REQUIRED, message, extensions);
  }
}

/**
 * A provider (Stripe, SendGrid, HubSpot) cannot be reached or keeps failing. Nothing was lost and
 * nothing will be charged twice: the client may retry with the same idempotency key after the hint.
 */
export class ProviderUnavailableError extends AppError {
  constructor(
    provider: string,
    retryAfterSeconds: number,
    readonly causeError?: unknown,
  ) {
    super(
      ErrorCode.PROVIDER_UNAVAILABLE,
      `The ${provider} service is unavailable right now; try again in ${retryAfterSeconds} seconds`,
      {
        provider,
        retryAfterSeconds,
      },
    );
  }
}

/** One of our own services (a subgraph) cannot be reached; the client may retry after the hint. */
export class ServiceUnavailableError extends AppError {
  constructor(serviceName: string, retryAfterSeconds = 5) {
    super(ErrorCode.SERVICE_UNAVAILABLE, `The ${serviceName} service is unavailable; try again in a few seconds`, {
      serviceName,
      retryAfterSeconds,
    });
  }
}

export type LimitCode =
  | 'QUERY_TOO_DEEP'
  | 'QUERY_TOO_COSTLY'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_DIRECTIVES'
  | 'TOO_MANY_TOKENS'
  | 'BATCH_TOO_LARGE'
  | 'PERSISTED_QUERY_REQUIRED';

/** A request over one of the gateway's abuse limits: refused before anything runs, HTTP 400. */
export class LimitExceededError extends AppError {
  constructor(code: LimitCode, message: string, limit?: number) {
    super(code, message, { ...(limit !== undefined ? { limit } : {}), http: { status: HTTP_STATUS[code] } });
  }
}

/** Too many requests from one viewer or address; `retryAfterSeconds` (and the Retry-After header) say when to come back. */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, `Too many requests; try again in ${retryAfterSeconds} seconds`, {
      retryAfterSeconds,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    });
  }
}

/** Codes Apollo Server and graphql-js raise for malformed requests; safe to show as they are. */
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);
/** INTERNAL_SERVER_ERROR is what Apollo calls any unknown error: its message is never shown. */
const CLIENT_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  ...REQUEST_CODES,
]);

/** Only these extension keys ever reach a client. */
const SAFE_EXTENSION_KEYS = [
  'code',
  'field',
  'fields',
  'argument',
  'entity',
  'id',
  'retryAfterSeconds',
  'provider',
  'serviceName',
  'limit',
  'fee',
  'paidFee',
];

/**
 * Apollo Server `formatError`: keeps the message and code of errors meant for clients, masks
 * everything else (and logs it), and never sends a stack trace.
 */
export function createErrorFormatter(
  logger: Logger,
  options: { hideSuggestions?: boolean; serviceName?: string } = {},
) {
  const service = options.serviceName ?? 'gateway';
  const format = formatError(logger, options);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const shaped = format(formatted, error);
    metrics.resolverErrors.inc({ service, code: String(shaped.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR) });
    return shaped;
  };
}

function formatError(logger: Logger, options: { hideSuggestions?: boolean; serviceName?: string }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (options.hideSuggestions) formatted = { ...formatted, message: withoutSuggestions(formatted.message) };
    const original = unwrapResolverError(error);
    const code = String(formatted.extensions?.code ?? '');

    // type-graphql's own validation error; we validate with validateFn, this is a safety net.
    if (original instanceof GraphQLError && original.message === 'Argument Validation Error') {
      return {
        message: 'Invalid input',
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    if (CLIENT_CODES.has(code)) {
      const extensions: Record<string, unknown> = {};
      for (const key of SAFE_EXTENSION_KEYS) {
        if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
      }
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions };
    }
    if (isDatabaseUnavailable(original)) {
      logger.warn(
        { error: (original as Error)?.message, path: formatted.path },
        'database unavailable: SERVICE_UNAVAILABLE',
      );
      const unavailable = new ServiceUnavailableError(options.serviceName ?? 'database');
      return {
        message: unavailable.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { ...unavailable.extensions },
      };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error masked for the client');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * graphql-js's "Did you mean …?" hints name fields, arguments, types and enum values that exist:
 * with introspection off they would give the schema away one guess at a time.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean [^?]*\?$/, '').trimEnd();
}

/** Postgres SQLSTATE of a driver error, looking through drizzle's DrizzleQueryError wrapper. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
export const PG_UNIQUE_VIOLATION = '23505';

/** Network failures of a database connection (Node's codes). */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** What node-postgres says when a connection is gone or cannot be had (these errors have no SQLSTATE). */
const CONNECTION_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|not currently accepting connections|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when the database could not be reached or dropped the connection (a restart, a failover,
 * pg_terminate_backend): the request may succeed when retried, so clients get SERVICE_UNAVAILABLE,
 * not INTERNAL_SERVER_ERROR. SQLSTATE classes 08 (connection exception) and 57P (operator
 * intervention), 53300 (too many connections), and the driver's own connection errors.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (/^08|^57P0[1-5]$/.test(code) || code === '53300' || CONNECTION_ERRNOS.has(code)))
      return true;
    if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Name of the constraint a driver error violated, looking through wrappers like pgErrorCode. */
export function pgConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const name = (current as { constraint?: unknown }).constraint;
    if (typeof name === 'string') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

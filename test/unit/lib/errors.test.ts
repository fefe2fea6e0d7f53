import { Writable } from 'node:stream';
import { ApolloServer } from '@apollo/server';
import { DrizzleQueryError } from 'drizzle-orm';
import { GraphQLError, buildSchema, locatedError, type GraphQLFormattedError } from 'graphql';
import {
  AppError,
  BadUserInputError,
  ConflictError,
  ErrorCode,
  NotFoundError,
  PG_UNIQUE_VIOLATION,
  UnauthenticatedError,
  createErrorFormatter,
  httpStatusFor,
  isDatabaseUnavailable,
  pgErrorCode,
} from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'error', destination });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** What graphql-js makes of an error thrown in the resolver of `listing`. */
const thrownInResolver = (error: Error) => locatedError(error, undefined, ['listing']);

class ListingLockedError extends AppError {
  constructor() {
    super(ErrorCode.CONFLICT, 'Listing is being paid for', {
      entity: 'Listing',
      id: 'l-1',
      secret: 'internal-lock-token',
      retryAfterSeconds: 3,
    });
  }
}

describe('createErrorFormatter', () => {
  it('keeps message, code and the safe extensions of an AppError, and drops the rest', () => {
    const { logger, lines } = capturingLogger();
    const error = thrownInResolver(new ListingLockedError());
    const formatted: GraphQLFormattedError = {
      ...error.toJSON(),
      extensions: { ...error.extensions, stacktrace: ['Error: x', '    at y (z.ts:1:1)'] },
    };
    const result = createErrorFormatter(logger)(formatted, error);
    expect(result.extensions).not.toHaveProperty('secret');
    expect(result.extensions).not.toHaveProperty('stacktrace');
    expect(result).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "CONFLICT",
    "entity": "Listing",
    "id": "l-1",
    "retryAfterSeconds": 3,
  },
  "locations": undefined,
  "message": "Listing is being paid for",
  "path": [
    "listing",
  ],
}
`);
    expect(lines).toEqual([]);
  });

  it('keeps field problems of BAD_USER_INPUT and drops the http extension of UNAUTHENTICATED', () => {
    const { logger } = capturingLogger();
    const format = createErrorFormatter(logger);
    const bad = thrownInResolver(
      new BadUserInputError([{ field: 'price.amount', message: 'amount must be 0 or more' }], 'input'),
    );
    expect(format(bad.toJSON(), bad)).toMatchInlineSnapshot(`
{
  "extensions": {
    "argument": "input",
    "code": "BAD_USER_INPUT",
    "field": "price.amount",
    "fields": [
      {
        "field": "price.amount",
        "message": "amount must be 0 or more",
      },
    ],
  },
  "locations": undefined,
  "message": "amount must be 0 or more",
  "path": [
    "listing",
  ],
}
`);
    const unauthenticated = thrownInResolver(new UnauthenticatedError('Token expired'));
    expect(format(unauthenticated.toJSON(), unauthenticated)).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "UNAUTHENTICATED",
  },
  "locations": undefined,
  "message": "Token expired",
  "path": [
    "listing",
  ],
}
`);
  });

  it('masks a plain Error thrown in a resolver, without stack trace, and logs it', () => {
    const { logger, records } = capturingLogger();
    const error = thrownInResolver(new Error('connect ECONNREFUSED 10.1.2.3:5432 password=hunter2'));
    const result = createErrorFormatter(logger)(error.toJSON(), error);
    expect(result).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "INTERNAL_SERVER_ERROR",
  },
  "locations": undefined,
  "message": "Internal server error",
  "path": [
    "listing",
  ],
}
`);
    expect(JSON.stringify(result)).not.toMatch(/ECONNREFUSED|hunter2|stack/);
    const logged = records();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'error',
      msg: 'unexpected error masked for the client',
      path: ['listing'],
      err: { message: 'connect ECONNREFUSED 10.1.2.3:5432 password=hunter2' },
    });
  });

  it('masks an error with a code it does not know', () => {
    const { logger, lines } = capturingLogger();
    const error = new GraphQLError('Stripe says: card_declined for cus_123', {
      extensions: { code: 'STRIPE_ERROR', customer: 'cus_123' },
    });
    expect(createErrorFormatter(logger)(error.toJSON(), error)).toEqual({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(lines).toHaveLength(1);
  });

  it('passes GRAPHQL_VALIDATION_FAILED through', () => {
    const { logger, lines } = capturingLogger();
    const error = new GraphQLError('Cannot query field "nope" on type "Query".', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const formatted: GraphQLFormattedError = { ...error.toJSON(), locations: [{ line: 1, column: 3 }] };
    expect(createErrorFormatter(logger)(formatted, error)).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "GRAPHQL_VALIDATION_FAILED",
  },
  "locations": [
    {
      "column": 3,
      "line": 1,
    },
  ],
  "message": "Cannot query field "nope" on type "Query".",
  "path": undefined,
}
`);
    expect(lines).toEqual([]);
  });

  it("turns type-graphql's own Argument Validation Error into a bare BAD_USER_INPUT", () => {
    const { logger } = capturingLogger();
    const error = thrownInResolver(
      new GraphQLError('Argument Validation Error', {
        extensions: { code: 'BAD_USER_INPUT', validationErrors: [{ target: { password: 'p' } }] },
      }),
    );
    expect(createErrorFormatter(logger)(error.toJSON(), error)).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "BAD_USER_INPUT",
  },
  "locations": undefined,
  "message": "Invalid input",
  "path": [
    "listing",
  ],
}
`);
  });

  describe('inside Apollo Server', () => {
    const schema = buildSchema('type Query { locked: String, unauthenticated: String, boom: String }');
    const rootValue = {
      locked: () => {
        throw new ListingLockedError();
      },
      unauthenticated: () => {
        throw new UnauthenticatedError();
      },
      boom: () => {
        throw new Error('connect ECONNREFUSED 10.1.2.3:5432');
      },
    };

    async function run(query: string) {
      const { logger, lines } = capturingLogger();
      const server = new ApolloServer({
        schema,
        rootValue,
        formatError: createErrorFormatter(logger),
        includeStacktraceInErrorResponses: false,
      });
      await server.start();
      try {
        const response = await server.executeOperation({ query });
        if (response.body.kind !== 'single') throw new Error('expected a single result');
        return { errors: response.body.singleResult.errors ?? [], lines, status: response.http.status };
      } finally {
        await server.stop();
      }
    }

    it('keeps an AppError for the client', async () => {
      const { errors, lines } = await run('{ locked }');
      expect(errors).toEqual([
        {
          message: 'Listing is being paid for',
          locations: [{ line: 1, column: 3 }],
          path: ['locked'],
          extensions: { code: 'CONFLICT', entity: 'Listing', id: 'l-1', retryAfterSeconds: 3 },
        },
      ]);
      expect(lines).toEqual([]);
    });

    it('answers 401 for UNAUTHENTICATED without leaking the http extension', async () => {
      const { errors, status } = await run('{ unauthenticated }');
      expect(errors[0]!.extensions).toEqual({ code: 'UNAUTHENTICATED' });
      expect(status).toBe(401);
    });

    it('passes a validation failure through', async () => {
      const { errors, lines } = await run('{ nope }');
      expect(errors).toEqual([
        expect.objectContaining({
          message: 'Cannot query field "nope" on type "Query".',
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
      ]);
      expect(lines).toEqual([]);
    });

    // Apollo fills in extensions.code = INTERNAL_SERVER_ERROR before formatError sees the error:
    // that code must not count as one meant for the client.
    it('masks a plain Error thrown in a resolver and logs it', async () => {
      const { errors, lines } = await run('{ boom }');
      expect(errors).toEqual([
        {
          message: 'Internal server error',
          locations: [{ line: 1, column: 3 }],
          path: ['boom'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      expect(lines).toHaveLength(1);
    });
  });
});

describe('error classes', () => {
  it('NotFoundError names the entity and id', () => {
    const error = new NotFoundError('Listing', 'l-1');
    expect({ message: error.message, extensions: error.extensions }).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "NOT_FOUND",
    "entity": "Listing",
    "id": "l-1",
  },
  "message": "Listing l-1 not found",
}
`);
  });

  it('BadUserInputError names the first field and lists them all', () => {
    const error = new BadUserInputError(
      [
        { field: 'title', message: 'title must be 3 to 120 characters' },
        { field: 'price.amount', message: 'amount must be 0 or more (minor units, e.g. cents)' },
      ],
      'input',
    );
    expect({ message: error.message, extensions: error.extensions }).toMatchInlineSnapshot(`
{
  "extensions": {
    "argument": "input",
    "code": "BAD_USER_INPUT",
    "field": "title",
    "fields": [
      {
        "field": "title",
        "message": "title must be 3 to 120 characters",
      },
      {
        "field": "price.amount",
        "message": "amount must be 0 or more (minor units, e.g. cents)",
      },
    ],
  },
  "message": "title must be 3 to 120 characters",
}
`);
  });

  it('ConflictError carries its extensions', () => {
    expect(new ConflictError('Listing already withdrawn', { entity: 'Listing' }).extensions).toEqual({
      code: 'CONFLICT',
      entity: 'Listing',
    });
  });

  it('maps codes to HTTP statuses', () => {
    expect(httpStatusFor(ErrorCode.BAD_USER_INPUT)).toBe(400);
    expect(httpStatusFor(ErrorCode.UNAUTHENTICATED)).toBe(401);
    expect(httpStatusFor(ErrorCode.FORBIDDEN)).toBe(403);
    expect(httpStatusFor(ErrorCode.NOT_FOUND)).toBe(404);
    expect(httpStatusFor(ErrorCode.CONFLICT)).toBe(409);
    expect(httpStatusFor(ErrorCode.PAYMENT_REQUIRED)).toBe(402);
    expect(httpStatusFor(ErrorCode.PROVIDER_UNAVAILABLE)).toBe(503);
    expect(httpStatusFor(ErrorCode.INTERNAL_SERVER_ERROR)).toBe(500);
    expect(httpStatusFor(undefined)).toBe(500);
    expect(httpStatusFor('')).toBe(500);
    expect(httpStatusFor('GRAPHQL_PARSE_FAILED')).toBe(500);
    for (const code of Object.values(ErrorCode)) expect(httpStatusFor(code)).toBeGreaterThanOrEqual(400);
  });
});

describe('pgErrorCode', () => {
  const pgError = (code: string) =>
    Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), { code });

  it('reads the SQLSTATE of a driver error', () => {
    expect(pgErrorCode(pgError(PG_UNIQUE_VIOLATION))).toBe('23505');
  });

  it("looks through drizzle's DrizzleQueryError", () => {
    const wrapped = new DrizzleQueryError('insert into "users" ...', ['a@example.com'], pgError('23505'));
    expect(pgErrorCode(wrapped)).toBe('23505');
  });

  it('skips codes that are not SQLSTATEs on the way down', () => {
    const chain = Object.assign(new Error('outer'), {
      code: 'ERR_WRAPPED',
      cause: { code: 'ECONNRESET', cause: pgError('40001') },
    });
    expect(pgErrorCode(chain)).toBe('40001');
  });

  it('stops after five levels', () => {
    const nest = (depth: number): unknown => (depth === 0 ? pgError('23505') : { cause: nest(depth - 1) });
    expect(pgErrorCode(nest(4))).toBe('23505');
    expect(pgErrorCode(nest(5))).toBeUndefined();
  });

  it.each([undefined, null, 'text', new Error('no code'), { code: 'ECONNREFUSED' }, { code: 23505 }])(
    'answers undefined for %p',
    (value) => {
      expect(pgErrorCode(value)).toBeUndefined();
    },
  );
});

describe('isDatabaseUnavailable', () => {
  const driver = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

  it.each([
    ['terminated by pg_terminate_backend', driver('terminating connection due to administrator command', '57P01')],
    ['server shutting down', driver('the database system is shutting down', '57P03')],
    ['server starting up', driver('the database system is starting up', '57P03')],
    ['a connection exception', driver('connection failure', '08006')],
    ['too many connections', driver('sorry, too many clients already', '53300')],
    ['refused', driver('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['dropped mid-query', driver('Connection terminated unexpectedly')],
    ['a dead client reused', driver('Client has encountered a connection error and is not queryable')],
    ['the pool timing out', driver('timeout exceeded when trying to connect')],
    ['a database closed to connections', driver('database "x" is not currently accepting connections', '55000')],
    ['wrapped by drizzle', new DrizzleQueryError('select 1', [], driver('Connection terminated unexpectedly'))],
  ])('is true for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', driver('duplicate key value violates unique constraint', '23505')],
    ['a serialization failure', driver('could not serialize access', '40001')],
    ['a syntax error', driver('syntax error at or near "selec"', '42601')],
    ['our own error', new ConflictError('Listing is WITHDRAWN')],
    ['nothing', undefined],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('makes the formatter answer SERVICE_UNAVAILABLE for the service, with nothing of the driver', () => {
    const { logger } = capturingLogger();
    const error = thrownInResolver(
      new DrizzleQueryError(
        'select * from listings.users where email = $1',
        ['ada@example.com'],
        driver('Connection terminated unexpectedly'),
      ),
    );
    expect(createErrorFormatter(logger, { serviceName: 'listings' })(error.toJSON(), error)).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "SERVICE_UNAVAILABLE",
    "retryAfterSeconds": 5,
    "serviceName": "listings",
  },
  "locations": undefined,
  "message": "The listings service is unavailable; try again in a few seconds",
  "path": [
    "listing",
  ],
}
`);
  });
});

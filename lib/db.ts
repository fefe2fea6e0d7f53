import path from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import type { Logger } from './logger';
import { metrics, sqlOperationOf } from './metrics';
import { sqlSpan } from './tracing';

/** One drizzle type for both drivers: PGlite (embedded) and node-postgres (services). */
export type Database = PgDatabase<PgQueryResultHKT, Record<string, never>>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Database | Transaction;

/** What pg-boss needs to run SQL on a connection we own (its `db` option). */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export interface DatabaseHandle {
  kind: 'pglite' | 'postgres';
  db: Database;
  /** pg-boss's connection: the PGlite session, or a connection string for its own pool. */
  boss: { db: SqlExecutor } | { connectionString: string; max: number; connectionTimeoutMillis: number };
  /** Runs the given migrations folder into `schema` (idempotent). */
  migrate(folder: string, schema: string): Promise<void>;
  /** PGlite only: the data dir as a tarball, to start other instances from (tests, the first-start template). */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, PGlite opens `dataDir` (or memory when neither is given). */
  url?: string;
  dataDir?: string;
  /** A PGlite data dir dump to start from (tests start every file from one migrated template; so does a new data folder). */
  loadDataDir?: Blob;
  poolMax?: number;
  /** Called with every SQL statement drizzle runs: logging at trace level, query counting in tests. */
  onQuery?: (query: string, params: unknown[]) => void;
  /** Where lost connections are reported (PostgreSQL). */
  logger?: Logger;
}

/** PGlite's buffer pool (PostgreSQL's default is 128MB); see createDatabase. */
export const PGLITE_SHARED_BUFFERS = '32MB';

/** How long a query waits for a connection while PostgreSQL is unreachable, before failing. */
export const CONNECT_TIMEOUT_MS = 5000;

export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.onQuery ? { logQuery: options.onQuery } : undefined;
  if (options.url) {
    const { Pool: PgPool } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const { migrate } = await import('drizzle-orm/node-postgres/migrator');
    const pool: Pool = new PgPool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // A connection the server drops (a restart, a failover, pg_terminate_backend) emits `error`: on an
    // idle client the pool's listener takes it, on a borrowed one (a transaction) nothing would and the
    // process would die. Its query fails on its own (SERVICE_UNAVAILABLE) and the pool discards it.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      instrumentQueries(client, ['query']);
      client.on('error', (err: Error & { code?: string }) =>
        options.logger?.warn({ error: err.message, code: err.code ?? null }, 'database connection lost'),
      );
    });
    const db = drizzle(pool, { logger }) as unknown as Database;
    return {
      kind: 'postgres',
      db,
      boss: {
        connectionString: options.url,
        max: Math.max(2, Math.ceil((options.poolMax ?? 10) / 2)),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      },
      migrate: (folder, schema) =>
        migrate(db as never, { migrationsFolder: folder, migrationsSchema: schema, migrationsTable: '__migrations' }),
      close: () => pool.end(),
    };
  }
  const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const pg: PGlite = await PGliteClass.create(options.dataDir ? path.resolve(options.dataDir) : undefined, {
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    // In PGlite all of shared_buffers is resident from the start (an open of a data folder measured
    // 286 MiB RSS with the default 128MB, 180 MiB with 32MB). 32MB holds a development database's
    // hot pages; the operating system's file cache holds the rest.
    startParams: [...PGliteClass.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  });
  // Metrics time every statement; tracing adds a span per statement inside a traced request or consumer.
  instrumentQueries(pg, ['query', 'exec']);
  const transaction = pg.transaction.bind(pg);
  pg.transaction = ((work: (tx: Parameters<Parameters<PGlite['transaction']>[0]>[0]) => Promise<unknown>) =>
    transaction((tx) => work(instrumentQueries(tx, ['query', 'exec'])))) as PGlite['transaction'];
  const db = drizzle(pg, { logger }) as unknown as Database;
  return {
    kind: 'pglite',
    db,
    boss: { db: pgliteExecutor(pg) },
    dumpDataDir: () => pg.dumpDataDir('none'),
    migrate: (folder, schema) =>
      migrate(db as never, { migrationsFolder: folder, migrationsSchema: schema, migrationsTable: '__migrations' }),
    close: () => pg.close(),
  };
}

/** The service whose schema a statement names (every table is schema-qualified), for the metrics' `service` label. */
const SCHEMA = /"(listings|payments|email|crm|pgboss)"\./;
const serviceOfSql = (text: string): string => SCHEMA.exec(text)?.[1] ?? 'other';

/**
 * Times every statement a driver object runs (node-postgres clients, PGlite and its transactions)
 * into `db_client_operation_duration_seconds`, and gives it a span when tracing is on and a span
 * is active: both drivers, one wrapper, the statement's text read once. Both call forms: the
 * promise (PGlite, transactions) and the callback (node-postgres' pool calls its client so).
 */
function instrumentQueries<T extends object>(target: T, methods: string[]): T {
  const object = target as Record<string, unknown>;
  for (const method of methods) {
    const original = object[method] as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') continue;
    object[method] = function instrumentedQuery(this: unknown, ...args: unknown[]) {
      const first = args[0] as string | { text?: string } | undefined;
      const text = typeof first === 'string' ? first : (first?.text ?? '');
      const operation = sqlOperationOf(text);
      const labels = { service: serviceOfSql(text), db_operation_name: operation };
      const started = process.hrtime.bigint();
      const span = sqlSpan(text, operation);
      const end = (err?: unknown) => {
        metrics.dbDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
        span?.(err);
      };
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as (err: unknown, result: unknown) => unknown;
        args[last] = (err: unknown, result: unknown) => (end(err), callback(err, result));
        return original.apply(this, args);
      }
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        end(err);
        throw err;
      }
      if (typeof (result as Promise<unknown> | undefined)?.then !== 'function') return (end(), result);
      return (result as Promise<unknown>).then(
        (value) => (end(), value),
        (err: unknown) => {
          end(err);
          throw err;
        },
      );
    };
  }
  return target;
}

/**
 * pg-boss on PGlite's single session. Statements without parameters may hold several commands
 * (pg-boss's schema install), which only `exec` accepts. A failed statement inside pg-boss's own
 * BEGIN…COMMIT would leave the one session in an aborted transaction, so roll it back.
 */
export function pgliteExecutor(pg: PGlite): SqlExecutor {
  return {
    async executeSql(text, values) {
      try {
        if (values && values.length > 0) {
          const result = await pg.query(text, values.map(toPgParam));
          return { rows: result.rows };
        }
        const results = await pg.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      } catch (err) {
        await pg.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    },
  };
}

/**
 * node-postgres serialises objects to JSON itself; PGlite needs it done for jsonb parameters.
 * Arrays stay arrays: pg-boss passes job ids as uuid[].
 */
function toPgParam(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !ArrayBuffer.isView(value)
  ) {
    return JSON.stringify(value);
  }
  return value;
}

/**
 * Lets pg-boss write through an open drizzle transaction (`send(..., { db })`), so a job commits or
 * rolls back with the change that caused it. `$n` placeholders become drizzle parameters, which
 * works the same on both drivers.
 */
export function transactionExecutor(tx: Executor): SqlExecutor {
  return {
    async executeSql(text, values = []) {
      const chunks: SQL[] = [];
      let last = 0;
      for (const match of text.matchAll(/\$(\d+)/g)) {
        chunks.push(sql.raw(text.slice(last, match.index)));
        chunks.push(sql`${sql.param(toPgParam(values[Number(match[1]) - 1]))}`);
        last = match.index! + match[0].length;
      }
      chunks.push(sql.raw(text.slice(last)));
      const result = (await tx.execute(sql.join(chunks, sql.raw('')))) as unknown as { rows: any[] };
      return { rows: result.rows };
    },
  };
}

/** A count from raw SQL: a number on PGlite, a string on node-postgres. */
export const toCount = (value: unknown): number => Number(value ?? 0);

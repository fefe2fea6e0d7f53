import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDatabase, type DatabaseHandle } from '../../lib/db';
import { migrateAll } from '../../embedded/migrations';

/**
 * Tests run on PGlite by default and on PostgreSQL when TEST_DATABASE_URL is set (.ci/run does).
 * Either way every test file gets its own database, copied from a template that global setup
 * migrated once: a PGlite data-dir dump, or a PostgreSQL template database.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const STATE_FILE = path.join(os.tmpdir(), `saypro-graph-test-${process.env.JEST_RUN_ID ?? 'run'}.json`);

interface TemplateState {
  kind: 'pglite' | 'postgres';
  /** PGlite: the dump file; PostgreSQL: the template database name. */
  template: string;
  /** PostgreSQL: prefix of every database this run creates, for cleanup. */
  prefix?: string;
}

export const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTemplate(): Promise<void> {
  if (TEST_DATABASE_URL) {
    const prefix = `saypro_test_${randomBytes(4).toString('hex')}`;
    const template = `${prefix}_tpl`;
    await admin((c) => c.query(`CREATE DATABASE ${template}`));
    const handle = await createDatabase({ url: withDatabase(TEST_DATABASE_URL, template), poolMax: 2 });
    await migrateAll(handle);
    await handle.close();
    fs.writeFileSync(STATE_FILE, JSON.stringify({ kind: 'postgres', template, prefix } satisfies TemplateState));
    return;
  }
  const handle = await createDatabase({});
  await migrateAll(handle);
  const dump = await dumpOf(handle);
  const file = path.join(os.tmpdir(), `saypro-graph-template-${process.pid}.tar`);
  fs.writeFileSync(file, dump);
  await handle.close();
  fs.writeFileSync(STATE_FILE, JSON.stringify({ kind: 'pglite', template: file } satisfies TemplateState));
}

async function dumpOf(handle: DatabaseHandle): Promise<Buffer> {
  if (!handle.dumpDataDir) throw new Error('not a PGlite handle');
  return Buffer.from(await (await handle.dumpDataDir()).arrayBuffer());
}

function state(): TemplateState {
  return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as TemplateState;
}

export interface TestDatabaseOptions {
  onQuery?: (query: string, params: unknown[]) => void;
}

/** A fresh, migrated database for one test file. Its `close` drops it. */
export async function createTestDatabase(
  options: TestDatabaseOptions = {},
): Promise<DatabaseHandle & { url?: string }> {
  const s = state();
  if (s.kind === 'pglite') {
    return createDatabase({ loadDataDir: new Blob([fs.readFileSync(s.template)]), onQuery: options.onQuery });
  }
  const name = `${s.prefix}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${s.template}`));
  const url = withDatabase(TEST_DATABASE_URL!, name);
  const handle = await createDatabase({ url, poolMax: 5, onQuery: options.onQuery });
  return {
    ...handle,
    url,
    close: async () => {
      await handle.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A database URL for a separate process (PostgreSQL mode only): a fresh copy of the template. */
export async function createScratchPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const s = state();
  if (s.kind !== 'postgres') throw new Error('PostgreSQL mode only');
  const name = `${s.prefix}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${s.template}`));
  return {
    url: withDatabase(TEST_DATABASE_URL!, name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function dropTemplate(): Promise<void> {
  if (!fs.existsSync(STATE_FILE)) return;
  const s = state();
  if (s.kind === 'pglite') {
    fs.rmSync(s.template, { force: true });
  } else {
    await admin(async (c) => {
      const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
        `${s.prefix}%`,
      ]);
      for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    });
  }
  fs.rmSync(STATE_FILE, { force: true });
}

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/data-dir';
import { createDatabase, type DatabaseHandle } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { MIGRATIONS, migrateAll } from '../../embedded/migrations';
import { hasDatabase, loadTemplate, templateFile } from '../../embedded/template';

/**
 * A new data folder starts from a migrated template (made once, by the built `dist/embedded/template.js`
 * that `npm start` runs in a child) instead of PGlite's initdb: what it ends up with must be what a
 * start from scratch makes.
 */

/** Every table, column, index and constraint of the services' and pg-boss's schemas, and each migrations table. */
async function shapeOf(handle: DatabaseHandle) {
  const schemas = [...MIGRATIONS.map(([, schema]) => schema), 'pgboss'];
  const list = schemas.map((s) => `'${s}'`).join(', ');
  const rows = async (query: string) =>
    ((await handle.db.execute(query as never)) as unknown as { rows: unknown[] }).rows;
  return {
    columns: await rows(
      `SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema IN (${list}) ORDER BY 1, 2, 3`,
    ),
    indexes: await rows(
      `SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname IN (${list}) ORDER BY 1, 2, 3`,
    ),
    constraints: await rows(
      `SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname IN (${list}) ORDER BY 1, 2`,
    ),
    functions: await rows(
      `SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN (${list}) ORDER BY 1, 2`,
    ),
    migrations: Object.fromEntries(
      await Promise.all(
        MIGRATIONS.map(async ([, schema]) => [
          schema,
          await rows(`SELECT hash, created_at FROM "${schema}"."__migrations" ORDER BY id`),
        ]),
      ),
    ),
    pgboss: await rows(`SELECT version FROM pgboss.version`),
  };
}

describe('the first-start template', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-template-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives a new data folder the schema and migrations state a start from scratch gives', async () => {
    const file = templateFile(dir);
    execFileSync(process.execPath, ['--liftoff-only', path.join(projectRoot(), 'dist/embedded/template.js'), file], {
      stdio: 'pipe',
    });
    expect(fs.statSync(file).size).toBeGreaterThan(0);

    const folder = path.join(dir, 'data', 'pglite');
    for (const parent of ['data', 'scratch']) fs.mkdirSync(path.join(dir, parent)); // as DATA_DIR is, before the database opens
    expect(hasDatabase(folder)).toBe(false);
    const template = await loadTemplate(createLogger({ level: 'silent' }), file);
    expect(template).toBeDefined();
    const fromTemplate = await createDatabase({ dataDir: folder, loadDataDir: template });
    await migrateAll(fromTemplate); // what the stack runs on top: nothing to do, and no error
    const templated = await shapeOf(fromTemplate);
    await fromTemplate.close();
    expect(hasDatabase(folder)).toBe(true);

    const scratch = await createDatabase({ dataDir: path.join(dir, 'scratch', 'pglite') });
    await migrateAll(scratch);
    const expected = await shapeOf(scratch);
    await scratch.close();

    expect(templated.columns.length).toBeGreaterThan(50);
    for (const [, schema] of MIGRATIONS) expect(expected.migrations[schema].length).toBeGreaterThan(0);
    expect(templated).toEqual(expected);

    // The folder is a database of its own from now on: it opens again without the template.
    const reopened = await createDatabase({ dataDir: folder });
    expect((await shapeOf(reopened)).migrations).toEqual(expected.migrations);
    await reopened.close();
  }, 300_000); // two databases made from nothing (the template's, and the one from scratch) on a shared machine

  it('is named after the migrations it holds, and is read, not rebuilt, once it exists', async () => {
    expect(templateFile(dir)).toBe(templateFile(dir));
    expect(path.basename(templateFile(dir))).toMatch(/^pglite-template-[0-9a-f]{16}\.tar$/);
    const file = path.join(dir, 'existing.tar');
    fs.writeFileSync(file, 'not rebuilt');
    const blob = await loadTemplate(createLogger({ level: 'silent' }), file);
    expect(await blob!.text()).toBe('not rebuilt');
  });
});

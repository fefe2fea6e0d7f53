import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/data-dir';
import { createDatabase } from '../lib/db';
import type { Logger } from '../lib/logger';
import { MIGRATIONS, migrateAll } from './migrations';

/**
 * A migrated PGlite database to copy into a new data folder, so a first start skips PGlite's initdb
 * (seconds of WebAssembly and, with the app loaded beside it, about 900 MiB at its peak) and the
 * migrations. Made once per machine, in a process of its own, for one set of migrations and one
 * PGlite and pg-boss: its name is a hash of them, so a template never carries a schema the code
 * does not know. The migrations still run after the copy (they are idempotent), and the database
 * holds no secret: those live in DATA_DIR/secrets.json, generated for each folder.
 */

/** Bumped when what goes into a template changes in a way the hash below cannot see. */
const FORMAT = 1;

const CACHE_DIR = () => path.join(projectRoot(), 'node_modules', '.cache', 'saypro-graph');

function packageVersion(name: string): string {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
    .sort();
}

/** The template's file for the code as it is: PGlite's and pg-boss's versions and every migration file. */
export function templateFile(cacheDir = CACHE_DIR()): string {
  const hash = createHash('sha256');
  hash.update(
    `format ${FORMAT}\npglite ${packageVersion('@electric-sql/pglite')}\npg-boss ${packageVersion('pg-boss')}\n`,
  );
  for (const [folder, schema] of MIGRATIONS) {
    for (const file of filesUnder(folder))
      hash.update(`${schema}/${path.relative(folder, file)}\n`).update(fs.readFileSync(file));
  }
  return path.join(cacheDir, `pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
}

/** Creates the template in memory (no dump and re-read of a fresh cluster) and writes it, atomically, to `file`. */
export async function buildTemplate(file: string): Promise<void> {
  const handle = await createDatabase({});
  try {
    await migrateAll(handle);
    const dump = Buffer.from(await (await handle.dumpDataDir!()).arrayBuffer());
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const staged = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(staged, dump);
    fs.renameSync(staged, file); // two first starts at once both write the same template: the last rename wins
  } finally {
    await handle.close();
  }
}

/**
 * The template for a new data folder, made first when this machine has none for this code. It is
 * made in a child process, so its peak memory is not added to the stack's, and with V8's baseline
 * WebAssembly compiler only: initdb runs once, and optimising PGlite's code for it costs more than
 * it saves. Undefined when it cannot be made (a read-only checkout): the start then runs initdb.
 */
export async function loadTemplate(logger: Logger, file = templateFile()): Promise<Blob | undefined> {
  if (!fs.existsSync(file)) {
    logger.info({ template: file }, 'preparing the database template (once for this code on this machine)');
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--liftoff-only', __filename, file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.once('error', () => resolve(null));
      child.once('exit', (exitCode) => {
        if (exitCode !== 0)
          logger.warn(
            { template: file, exitCode, stderr: stderr.slice(-2000) },
            'could not prepare the database template; creating the database from scratch',
          );
        resolve(exitCode);
      });
    });
    if (code !== 0) return undefined;
    logger.info({ template: file, ms: Date.now() - started }, 'database template ready');
  }
  return new Blob([fs.readFileSync(file)]);
}

/** Whether a PGlite folder holds a database already (PGlite refuses a template over one). */
export const hasDatabase = (dir: string): boolean => fs.existsSync(path.join(dir, 'PG_VERSION'));

if (require.main === module) {
  buildTemplate(process.argv[2] ?? templateFile()).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadEnvFile } from '../lib/config';
import { DataDirLockedError, dataDirLayout, lockDataDir } from '../lib/data-dir';

/**
 * `npm run reset [-- --yes]`: deletes embedded mode's database and the emulators' state from
 * DATA_DIR, so the next `npm start` begins empty. It takes the data folder's lock first, so it
 * refuses while the graph runs (and the graph cannot start while it deletes). Dev secrets stay.
 */
const USAGE = 'Usage: npm run reset [-- --yes]   (--yes: no confirmation prompt)';

/** One line and exit 2 (3 when the graph holds the folder), never a stack trace. */
function refuse(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function sizeOf(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0);
}

const human = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function main(): Promise<void> {
  let yes = false;
  try {
    yes = parseArgs({ options: { yes: { type: 'boolean', short: 'y' } } }).values.yes ?? false;
  } catch (err) {
    refuse(`${(err as Error).message.split('\n')[0]}\n${USAGE}`);
  }
  let config;
  try {
    loadEnvFile();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.message);
    throw err;
  }
  const dir = path.resolve(config.DATA_DIR);
  if (!fs.existsSync(dir)) {
    console.log(`Nothing to reset: ${dir} does not exist.`);
    return;
  }
  let release: () => void;
  try {
    release = lockDataDir(dir);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      refuse(
        `SayPro Graph is running on ${dir} (pid ${err.pid}): stop it first (Ctrl+C where it runs), then run npm run reset again. Nothing was removed.`,
        3,
      );
    }
    throw err;
  }
  try {
    const layout = dataDirLayout(dir);
    const targets = [
      { path: layout.database, what: 'the database (PGlite)' },
      { path: layout.emulators, what: "the emulators' state (Stripe, SendGrid, HubSpot)" },
    ].filter((target) => fs.existsSync(target.path));
    if (targets.length === 0) {
      console.log(`Nothing to reset in ${dir}: no database and no emulator state.`);
      return;
    }
    console.log(`This deletes from ${dir}:`);
    const width = Math.max(...targets.map((target) => target.path.length));
    for (const target of targets)
      console.log(`  ${target.path.padEnd(width)}   ${target.what}, ${human(sizeOf(target.path))}`);
    if (!yes) {
      if (!process.stdin.isTTY) {
        console.error(
          'Not deleting without a confirmation: run it in a terminal, or pass --yes (npm run reset -- --yes).',
        );
        process.exitCode = 2; // not process.exit: the lock is released below
        return;
      }
      if (!(await confirm('Delete them? [y/N] '))) {
        console.log('Nothing was removed.');
        return;
      }
    }
    for (const target of targets) {
      fs.rmSync(target.path, { recursive: true, force: true });
      console.log(`Removed ${target.path}`);
    }
    if (fs.existsSync(layout.secrets))
      console.log(`Kept ${layout.secrets} (dev secrets: tokens from npm run token stay valid)`);
    if (config.DATABASE_URL) console.log('DATABASE_URL is set: that database was not touched.');
    console.log('The next npm start begins empty.');
  } finally {
    release();
  }
}

main().catch((err: unknown) => {
  console.error(`npm run reset failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** What embedded mode keeps in its data folder (DATA_DIR); `npm run reset` removes the first two. */
export function dataDirLayout(dir: string) {
  return {
    /** PGlite's database: a schema per subgraph and pg-boss's. */
    database: path.join(dir, 'pglite'),
    /** The local emulators' state: `stripe.json`, `sendgrid.json`, `hubspot.json` (and any set aside). */
    emulators: path.join(dir, 'emulators'),
    /** Generated dev secrets (kept by a reset: dev tokens stay valid). */
    secrets: path.join(dir, 'secrets.json'),
    /** Held by the running process (its pid). */
    lock: path.join(dir, 'LOCK'),
  };
}

/** Thrown when another live process holds the data folder. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `The data folder ${dir} is in use by another SayPro Graph process (pid ${pid}). ` +
        `Stop that process first, or start this one with DATA_DIR pointing at another folder.`,
    );
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data folder for this process. PGlite has no cross-process locking and two processes
 * on one folder lose data silently, so a second opener is refused while the holder lives; a lock
 * left by a process that died is taken over. Returns a release function.
 */
export function lockDataDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const lockPath = dataDirLayout(dir).lock;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Write the pid to a private file, then hard-link it into place: the lock appears atomically
    // with its content, so no one ever reads an empty lock and mistakes it for a stale one.
    const staged = `${lockPath}.${process.pid}.${attempt}`;
    fs.writeFileSync(staged, String(process.pid));
    try {
      fs.linkSync(staged, lockPath);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lockPath, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
      // Our own pid: this process already holds it (a second open would lose data just the same).
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || isAlive(pid)))
        throw new DataDirLockedError(dir, pid);
      fs.rmSync(lockPath, { force: true }); // stale: its process is gone
    } finally {
      fs.rmSync(staged, { force: true });
    }
  }
  throw new Error(`Could not take the lock ${lockPath}`);
}

export interface DevSecrets {
  JWT_SECRET: string;
  INTERNAL_SECRET: string;
  /** Signs the local Stripe emulator's webhooks. */
  STRIPE_WEBHOOK_SECRET: string;
}

const generators: Record<keyof DevSecrets, () => string> = {
  JWT_SECRET: () => randomBytes(32).toString('base64url'),
  INTERNAL_SECRET: () => randomBytes(32).toString('base64url'),
  STRIPE_WEBHOOK_SECRET: () => `whsec_${randomBytes(24).toString('base64url')}`,
};

/**
 * Embedded mode's secrets: generated on first start and kept in the data folder (mode 0600), so
 * dev tokens minted with `npm run token` stay valid across restarts. Secrets added by a newer
 * version are filled in; existing ones are kept.
 */
export function loadOrCreateDevSecrets(dir: string): DevSecrets {
  fs.mkdirSync(dir, { recursive: true });
  const file = dataDirLayout(dir).secrets;
  let stored: Partial<DevSecrets> = {};
  if (fs.existsSync(file)) {
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    } catch {
      stored = {}; // unreadable: start over (dev tokens minted before are invalid from now on)
    }
  }
  const missing = (Object.keys(generators) as Array<keyof DevSecrets>).filter(
    (k) => typeof stored[k] !== 'string' || !stored[k],
  );
  if (missing.length === 0) return stored as DevSecrets;
  const secrets = { ...stored } as DevSecrets;
  for (const key of missing) secrets[key] = generators[key]();
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  fs.chmodSync(file, 0o600); // `mode` applies only when the file is new
  return secrets;
}

/** The repository root, found from this file in both `lib/` (tests) and `dist/lib/` (build). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

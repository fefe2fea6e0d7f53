import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { z } from 'zod';
import type { Logger } from '../../lib/logger';

export interface StateFileOptions {
  /** The file; its folder is created on the first write. */
  file: string;
  /** Whose state it is (`stripe`): a file naming another emulator is set aside too. */
  emulator: string;
  /** The format this code writes and reads; a file of a newer format is set aside, never read. */
  version: number;
  /** The state to write, taken when the write starts: a burst of changes becomes one write of the latest state. */
  snapshot: () => unknown;
  logger: Logger;
  /** How long after a change the file is written, ms. @default 250 */
  delayMs?: number;
}

export interface StateFile {
  /**
   * The saved state, checked by `parse` (which throws on a bad one), or undefined when there is no
   * file. A file that cannot be used (not JSON, another emulator's, a newer format, fails `parse`)
   * is renamed aside with one warning naming both paths, and undefined is returned: never a crash.
   */
  load<T>(parse: (state: unknown) => T): T | undefined;
  /** Something changed: the file is written within `delayMs`, once for any number of changes. */
  touch(): void;
  /** Writes at once if anything changed since the last write, and waits for writes in flight. */
  flush(): Promise<void>;
  /** A last flush; later changes are not written. */
  close(): Promise<void>;
}

/** What is on disk: the state inside an envelope that says whose it is and in which format. */
interface Envelope {
  emulator: string;
  version: number;
  savedAt: string;
  state: unknown;
}

class Unusable extends Error {
  constructor(
    readonly kind: 'corrupt' | 'newer',
    message: string,
  ) {
    super(message);
  }
}

function unwrap(raw: string, emulator: string, version: number): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Unusable('corrupt', `it is not valid JSON (${(err as Error).message})`);
  }
  const envelope = parsed as Partial<Envelope> | null;
  if (
    !envelope ||
    typeof envelope !== 'object' ||
    envelope.emulator !== emulator ||
    !Number.isInteger(envelope.version) ||
    envelope.version! < 1
  ) {
    throw new Unusable(
      'corrupt',
      `it is not a ${emulator} emulator state file (no "emulator": "${emulator}" and "version")`,
    );
  }
  if (envelope.version! > version) {
    throw new Unusable(
      'newer',
      `it was written in format ${envelope.version}, newer than this version reads (${version})`,
    );
  }
  return envelope.state;
}

/**
 * An emulator's state in one JSON file, so that what it holds survives a restart: written through
 * write-file-atomic (a temporary file, fsync, rename: a crash mid-write leaves the old file whole),
 * debounced, and flushed on close.
 */
export function createStateFile(options: StateFileOptions): StateFile {
  const { file, emulator, version, logger } = options;
  const delayMs = options.delayMs ?? 250;
  let dirty = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;

  function setAside(err: Unusable): void {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const aside = `${file}.${err.kind}-${stamp}`;
    let where = `set aside as ${aside}`;
    try {
      fs.renameSync(file, aside);
    } catch (renameErr) {
      where = `left in place (renaming it failed: ${(renameErr as Error).message}; it will be overwritten)`;
    }
    logger.warn(
      { file, aside, reason: err.kind },
      `${emulator} emulator state ${file} cannot be used: ${err.message}; ${where}; starting empty`,
    );
  }

  function schedule(): void {
    if (closed || timer || writing) return;
    timer = setTimeout(() => void write(), delayMs);
    timer.unref();
  }

  function write(): Promise<void> {
    timer = undefined;
    if (!dirty) return writing ?? Promise.resolve();
    dirty = false;
    const envelope: Envelope = { emulator, version, savedAt: new Date().toISOString(), state: options.snapshot() };
    const started = (async () => {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      // 0600: the file holds signing keys and customers' details.
      await writeFileAtomic(file, JSON.stringify(envelope), { mode: 0o600 });
    })()
      .catch((err: unknown) => {
        dirty = true; // tried again on the next change or flush
        logger.error({ err, file }, `${emulator} emulator state could not be written to ${file}`);
      })
      .finally(() => {
        writing = undefined;
        if (dirty) schedule();
      });
    writing = started;
    return started;
  }

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (writing) await writing;
    if (timer) clearTimeout(timer); // the write that ended may have scheduled the next one
    timer = undefined;
    if (dirty) await write();
  }

  return {
    load(parse) {
      let raw: string;
      try {
        raw = fs.readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        setAside(new Unusable('corrupt', `it cannot be read (${(err as Error).message})`));
        return undefined;
      }
      try {
        const state = unwrap(raw, emulator, version);
        try {
          return parse(state);
        } catch (err) {
          throw new Unusable('corrupt', `its state is not valid (${(err as Error).message})`);
        }
      } catch (err) {
        if (!(err instanceof Unusable)) throw err;
        setAside(err);
        return undefined;
      }
    },
    touch() {
      if (closed) return;
      dirty = true;
      schedule();
    },
    flush,
    async close() {
      await flush();
      closed = true;
    },
  };
}

/** A `load` parser from a zod schema, whose error names the first bad field in one line. */
export function parseWith<S extends z.ZodTypeAny>(schema: S): (state: unknown) => z.output<S> {
  return (state) => {
    const result = schema.safeParse(state);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || 'state'}: ${issue.message}`);
  };
}

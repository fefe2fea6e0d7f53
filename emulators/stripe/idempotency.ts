import { createHash } from 'node:crypto';
import { idempotencyEndpointMismatch, idempotencyInFlight, idempotencyParamsMismatch } from './errors';

/** Stripe keeps keys at least this long. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface SavedResponse {
  status: number;
  body: unknown;
  /** The request that produced it, sent back as `Original-Request`. */
  requestId: string;
}

interface Entry {
  endpoint: string;
  /** The request's parameters, canonical: a reuse with others is refused. */
  fingerprint: string;
  createdAt: number;
  saved?: SavedResponse;
}

export type IdempotencyOutcome =
  | { kind: 'replay'; response: SavedResponse }
  | {
      kind: 'first';
      /** Keeps the answer for later requests with this key. */
      save(response: SavedResponse): void;
      /** Forgets the key: the request never started executing, so it may be sent again with other parameters. */
      release(): void;
    };

/** A key whose answer is saved, as the state file keeps it: `id` names the API key by its hash, never the key itself. */
export interface SavedKey {
  id: string;
  endpoint: string;
  fingerprint: string;
  createdAt: number;
  saved: SavedResponse;
}

/**
 * Keys are scoped to the API key that sent them. A key is "in flight" from the first request's
 * arrival until its answer is saved or released.
 */
export function createIdempotencyStore(ttlMs = IDEMPOTENCY_TTL_MS) {
  let entries = new Map<string, Entry>();

  function sweep(now: number): void {
    for (const [id, entry] of entries) if (now - entry.createdAt > ttlMs) entries.delete(id);
  }

  return {
    /** Throws the 400/409 idempotency errors; otherwise says whether to replay or to execute. */
    begin(scope: string, key: string, endpoint: string, fingerprint: string): IdempotencyOutcome {
      const now = Date.now();
      if (entries.size > 10_000) sweep(now);
      const id = `${createHash('sha256').update(scope).digest('base64url')}\u0000${key}`;
      const existing = entries.get(id);
      if (existing && now - existing.createdAt <= ttlMs) {
        if (!existing.saved) throw idempotencyInFlight(key);
        if (existing.endpoint !== endpoint) throw idempotencyEndpointMismatch(key);
        if (existing.fingerprint !== fingerprint) throw idempotencyParamsMismatch(key);
        return { kind: 'replay', response: existing.saved };
      }
      const entry: Entry = { endpoint, fingerprint, createdAt: now };
      entries.set(id, entry);
      const map = entries;
      // After a reset the map is a new one: a late answer must not land in it.
      return {
        kind: 'first',
        save(response) {
          if (map.get(id) === entry) entry.saved = response;
        },
        release() {
          if (map.get(id) === entry) map.delete(id);
        },
      };
    },
    clear(): void {
      entries = new Map();
    },
    /** The keys with a saved answer, still within the TTL: keys in flight died with their request. */
    saved(now = Date.now()): SavedKey[] {
      return [...entries]
        .filter(([, entry]) => entry.saved && now - entry.createdAt <= ttlMs)
        .map(([id, entry]) => ({
          id,
          endpoint: entry.endpoint,
          fingerprint: entry.fingerprint,
          createdAt: entry.createdAt,
          saved: entry.saved!,
        }));
    },
    /** Replaces the keys with saved ones (a restart). */
    restore(keys: SavedKey[]): void {
      entries = new Map(keys.map(({ id, ...entry }) => [id, entry]));
    },
    size(): number {
      return entries.size;
    },
  };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;

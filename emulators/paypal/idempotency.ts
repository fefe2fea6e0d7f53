import { previousRequestInProgress, requestIdReused } from './errors';

/** The Orders API keeps a PayPal-Request-Id this long (callers may ask PayPal for up to 72 h). */
export const REQUEST_ID_TTL_MS = 6 * 60 * 60 * 1000;

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/**
 * What a write made, as data: enough to render its latest state again (PayPal replays the latest
 * state of what the first request did), and to keep across a restart.
 */
export interface Made {
  kind: 'order' | 'refund';
  id: string;
  status: number;
  /** `Prefer: return=representation` on the first request. */
  representation: boolean;
}

interface Entry {
  operation: string;
  createdAt: number;
  /** What the first request made; absent while it is still running. */
  made?: Made;
}

/** A kept request id, as the state file holds it. */
export interface SavedRequestId extends Required<Entry> {
  key: string;
}

export type RequestIdOutcome =
  | { kind: 'replay'; made: Made }
  | {
      kind: 'first';
      /** Keeps what this id made. Only successes are kept: a refused request may be sent again. */
      save(made: Made): void;
      release(): void;
    };

/**
 * `PayPal-Request-Id` as PayPal documents it: the same id again returns the latest status of what
 * the first request did (not a second order, capture or refund); a second request while the first
 * is still running is refused (PREVIOUS_REQUEST_IN_PROGRESS); an id used for another operation is
 * refused (PAYPAL_REQUEST_ID_PREVIOUSLY_USED). Ids are scoped to the REST app (client id).
 */
export function createRequestIds(ttlMs = REQUEST_ID_TTL_MS) {
  let entries = new Map<string, Entry>();

  return {
    begin(clientId: string, requestId: string, operation: string): RequestIdOutcome {
      const now = Date.now();
      const key = `${clientId}\u0000${requestId}`;
      const existing = entries.get(key);
      if (existing && now - existing.createdAt <= ttlMs) {
        if (existing.operation !== operation) throw requestIdReused(requestId);
        if (!existing.made) throw previousRequestInProgress();
        return { kind: 'replay', made: existing.made };
      }
      const entry: Entry = { operation, createdAt: now };
      entries.set(key, entry);
      const map = entries;
      return {
        kind: 'first',
        save(made) {
          if (map.get(key) === entry) entry.made = made;
        },
        release() {
          if (map.get(key) === entry) map.delete(key);
        },
      };
    },
    size: () => entries.size,
    /** The finished ones still within their time, for the state file (ids in flight are not kept). */
    saved(): SavedRequestId[] {
      const now = Date.now();
      return [...entries]
        .filter(([, e]) => e.made && now - e.createdAt <= ttlMs)
        .map(([key, e]) => ({ key, operation: e.operation, createdAt: e.createdAt, made: e.made! }));
    },
    restore(saved: SavedRequestId[]): void {
      for (const { key, operation, createdAt, made } of saved) entries.set(key, { operation, createdAt, made });
    },
    clear(): void {
      entries = new Map();
    },
  };
}

import { previousRequestInProgress, requestIdReused } from './errors';

/** The Orders API keeps a PayPal-Request-Id this long (callers may ask PayPal for up to 72 h). */
export const REQUEST_ID_TTL_MS = 6 * 60 * 60 * 1000;

export interface ApiAnswer {
  status: number;
  body: unknown;
}

interface Entry {
  operation: string;
  createdAt: number;
  /** Renders the answer again: PayPal replays the latest state of what the first request did. */
  replay?: () => ApiAnswer;
}

export type RequestIdOutcome =
  | { kind: 'replay'; answer: ApiAnswer }
  | {
      kind: 'first';
      /** Keeps how to answer this id again. Only successes are kept: a refused request may be sent again. */
      save(replay: () => ApiAnswer): void;
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
        if (!existing.replay) throw previousRequestInProgress();
        return { kind: 'replay', answer: existing.replay() };
      }
      const entry: Entry = { operation, createdAt: now };
      entries.set(key, entry);
      const map = entries;
      return {
        kind: 'first',
        save(replay) {
          if (map.get(key) === entry) entry.replay = replay;
        },
        release() {
          if (map.get(key) === entry) map.delete(key);
        },
      };
    },
    size: () => entries.size,
    clear(): void {
      entries = new Map();
    },
  };
}

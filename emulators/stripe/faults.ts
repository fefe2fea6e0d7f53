/**
 * Failures switched on by tests or by hand. `times` = how many matching requests or events a fault
 * applies to (default 1); `path` = a path prefix filter (default any /v1 path).
 */
export type StripeFault =
  /** 429 rate_limit_error; header `Stripe-Should-Retry: true` only when `shouldRetry`. */
  | { kind: 'rate_limit'; shouldRetry?: boolean; times?: number; path?: string }
  /** 5xx api_error. */
  | { kind: 'server_error'; status?: 500 | 502 | 503; times?: number; path?: string }
  /** Waits `ms` before doing the work and answering (longer than the client timeout → the client gives up). */
  | { kind: 'hang'; ms: number; times?: number; path?: string }
  /** POST /v1/payment_intents: does the work (charge, saved idempotent answer, events), then drops the connection. */
  | { kind: 'drop_after_charge'; times?: number }
  /** Delivers each of the next N events twice. */
  | { kind: 'webhook_duplicate'; times?: number }
  /** Holds the next N events and delivers them newest first once N are held (or on flushWebhooks). */
  | { kind: 'webhook_out_of_order'; times?: number };

export type FaultKind = StripeFault['kind'];
type FaultOf<K extends FaultKind> = Extract<StripeFault, { kind: K }>;

/** A fault still in force, with how many more times it applies. */
export type ActiveFault = StripeFault & { remaining: number };

export class FaultValidationError extends Error {}

const KINDS: readonly FaultKind[] = ['rate_limit', 'server_error', 'hang', 'drop_after_charge', 'webhook_duplicate', 'webhook_out_of_order'];

/** Checks faults that arrive as JSON (the admin endpoint) or from code, naming the first problem. */
export function validateFaults(input: unknown): StripeFault[] {
  if (!Array.isArray(input)) throw new FaultValidationError('faults must be an array');
  return input.map((item: unknown, index) => {
    const where = `faults[${index}]`;
    if (item === null || typeof item !== 'object') throw new FaultValidationError(`${where} must be an object`);
    const fault = item as Record<string, unknown>;
    if (!KINDS.includes(fault.kind as FaultKind)) throw new FaultValidationError(`${where}.kind must be one of ${KINDS.join(', ')}`);
    if (fault.times !== undefined && !(Number.isInteger(fault.times) && (fault.times as number) > 0)) {
      throw new FaultValidationError(`${where}.times must be a positive integer`);
    }
    if (fault.path !== undefined && !(typeof fault.path === 'string' && fault.path.startsWith('/'))) {
      throw new FaultValidationError(`${where}.path must be a path starting with /`);
    }
    if (fault.kind === 'rate_limit' && fault.shouldRetry !== undefined && typeof fault.shouldRetry !== 'boolean') {
      throw new FaultValidationError(`${where}.shouldRetry must be a boolean`);
    }
    if (fault.kind === 'server_error' && fault.status !== undefined && ![500, 502, 503].includes(fault.status as number)) {
      throw new FaultValidationError(`${where}.status must be 500, 502 or 503`);
    }
    if (fault.kind === 'hang' && !(typeof fault.ms === 'number' && Number.isFinite(fault.ms) && fault.ms >= 0)) {
      throw new FaultValidationError(`${where}.ms must be a number of milliseconds`);
    }
    return { ...fault } as StripeFault;
  });
}

const matchesPath = (fault: StripeFault, path: string) => {
  const prefix = 'path' in fault && fault.path ? fault.path : '/v1';
  return path.startsWith(prefix);
};

export function createFaultBook() {
  let active: ActiveFault[] = [];

  function take<K extends FaultKind>(kinds: readonly K[], path?: string): (FaultOf<K> & { remaining: number }) | undefined {
    const found = active.find((fault) => (kinds as readonly FaultKind[]).includes(fault.kind) && (path === undefined || matchesPath(fault, path)));
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) active = active.filter((fault) => fault !== found);
    return found as FaultOf<K> & { remaining: number };
  }

  return {
    set(faults: StripeFault[]): void {
      active = validateFaults(faults).map((fault) => ({ ...fault, remaining: fault.times ?? 1 }));
    },
    clear(): void {
      active = [];
    },
    list(): ActiveFault[] {
      return active.map((fault) => ({ ...fault }));
    },
    /** Consumes one use of the first fault of these kinds whose path matches, if any. */
    take,
    /**
     * For out-of-order delivery: which batch this event joins (the fault itself identifies it),
     * its size, and whether this event fills it.
     */
    takeHold(): { batch: object; last: boolean } | undefined {
      const fault = take(['webhook_out_of_order']);
      return fault ? { batch: fault, last: fault.remaining <= 0 } : undefined;
    },
  };
}

export type FaultBook = ReturnType<typeof createFaultBook>;

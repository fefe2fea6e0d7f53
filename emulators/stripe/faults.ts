import {
  checkFault,
  createFaultBook as createSharedFaultBook,
  FaultValidationError,
  type ActiveFault as SharedActiveFault,
} from '../shared/faults';

export { FaultValidationError } from '../shared/faults';

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

/** A fault still in force, with how many more times it applies. */
export type ActiveFault = SharedActiveFault<StripeFault>;

const KINDS: readonly FaultKind[] = [
  'rate_limit',
  'server_error',
  'hang',
  'drop_after_charge',
  'webhook_duplicate',
  'webhook_out_of_order',
];

/** Checks faults that arrive as JSON (the admin endpoint) or from code, naming the first problem. */
export function validateFaults(input: unknown): StripeFault[] {
  if (!Array.isArray(input)) throw new FaultValidationError('faults must be an array');
  return input.map((item: unknown, index) => {
    const where = `faults[${index}]`;
    const fault = checkFault(item, where, KINDS);
    if (fault.kind === 'rate_limit' && fault.shouldRetry !== undefined && typeof fault.shouldRetry !== 'boolean') {
      throw new FaultValidationError(`${where}.shouldRetry must be a boolean`);
    }
    return { ...fault } as StripeFault;
  });
}

export const createFaultBook = () => createSharedFaultBook(validateFaults, '/v1');

export type FaultBook = ReturnType<typeof createFaultBook>;

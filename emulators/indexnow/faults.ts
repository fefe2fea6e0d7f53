import { checkFault, FaultValidationError, type ActiveFault } from '../shared/faults';

/**
 * Failures switched on by tests or by hand, for `/indexnow` (GET and POST). `times` = how many
 * requests a fault applies to (default 1).
 */
export type IndexNowFault =
  /** 429 Too Many Requests with `Retry-After: <retryAfterSeconds>` (default 1). */
  | { kind: 'rate_limit'; retryAfterSeconds?: number; times?: number; path?: string }
  /** 5xx (500 by default). */
  | { kind: 'server_error'; status?: 500 | 502 | 503; times?: number; path?: string }
  /** Waits `ms` before answering (longer than the client's timeout: it gives up). */
  | { kind: 'hang'; ms: number; times?: number; path?: string }
  /** Drops the connection without an answer (nothing is recorded). */
  | { kind: 'drop'; times?: number; path?: string };

export type IndexNowActiveFault = ActiveFault<IndexNowFault>;

const KINDS: readonly IndexNowFault['kind'][] = ['rate_limit', 'server_error', 'hang', 'drop'];

/** Checks one fault from JSON or code, naming the first problem. */
export function parseFault(item: unknown, index = 0): IndexNowFault {
  const where = `faults[${index}]`;
  const fault = checkFault(item, where, KINDS);
  if (
    fault.kind === 'rate_limit' &&
    fault.retryAfterSeconds !== undefined &&
    !(Number.isInteger(fault.retryAfterSeconds) && (fault.retryAfterSeconds as number) >= 0)
  )
    throw new FaultValidationError(`${where}.retryAfterSeconds must be a whole number of seconds`);
  return { ...fault } as IndexNowFault;
}

export function validateFaults(input: unknown): IndexNowFault[] {
  if (!Array.isArray(input)) throw new FaultValidationError('faults must be an array');
  return input.map((item: unknown, index) => parseFault(item, index));
}

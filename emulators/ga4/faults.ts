import { checkFault, FaultValidationError, type ActiveFault } from '../shared/faults';

/**
 * Failures switched on by tests or by hand. `times` = how many matching requests a fault applies
 * to (default 1); `path` = a path prefix (default: both `/mp/collect` and `/debug/mp/collect`).
 * GA4 itself answers 2xx for nearly everything: these are outages, not validation problems.
 */
export type Ga4Fault =
  /** 5xx, nothing recorded. */
  | { kind: 'server_error'; status?: 500 | 502 | 503; times?: number; path?: string }
  /** 429, nothing recorded. */
  | { kind: 'rate_limit'; times?: number; path?: string }
  /** Waits `ms` before recording and answering (a client that gave up by then recorded nothing). */
  | { kind: 'hang'; ms: number; times?: number; path?: string }
  /** Drops the connection before reading the request: nothing recorded. */
  | { kind: 'drop_connection'; times?: number; path?: string };

export type Ga4ActiveFault = ActiveFault<Ga4Fault>;

const KINDS: readonly Ga4Fault['kind'][] = ['server_error', 'rate_limit', 'hang', 'drop_connection'];

/** Checks one fault from JSON or code, naming the first problem. */
export function parseFault(item: unknown, index = 0): Ga4Fault {
  return { ...checkFault(item, `faults[${index}]`, KINDS) } as Ga4Fault;
}

export function validateFaults(input: unknown): Ga4Fault[] {
  if (!Array.isArray(input)) throw new FaultValidationError('faults must be an array');
  return input.map((item: unknown, index) => parseFault(item, index));
}

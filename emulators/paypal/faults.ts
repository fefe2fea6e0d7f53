import { checkFault, FaultValidationError, type ActiveFault } from '../shared/faults';

/**
 * Failures switched on by tests or by hand. `times` = how many matching requests or events a fault
 * applies to (default 1); `path` = a path prefix (default `/v2`, the Orders and Payments APIs;
 * name `/v1/oauth2/token` or `/v1/notifications` to hit those).
 */
export type PayPalFault =
  /** The token endpoint fails: 503 (or `status`), or drops the connection with `drop`. */
  | { kind: 'token_unavailable'; status?: 500 | 503; drop?: boolean; times?: number }
  /** The next API calls get 401 invalid_token for a token that was valid, and that token stays expired. */
  | { kind: 'token_expired'; times?: number; path?: string }
  /** 5xx INTERNAL_SERVER_ERROR. */
  | { kind: 'server_error'; status?: 500 | 502 | 503; times?: number; path?: string }
  /** 429 RATE_LIMIT_REACHED. */
  | { kind: 'rate_limit'; times?: number; path?: string }
  /** Waits `ms` before doing the work and answering (longer than the client's timeout: it gives up). */
  | { kind: 'hang'; ms: number; times?: number; path?: string }
  /** A capture is done (kept for its PayPal-Request-Id, webhooks sent), then the connection is dropped. */
  | { kind: 'drop_after_capture'; times?: number }
  /** Delivers each of the next N events twice (two transmissions of one event id). */
  | { kind: 'webhook_duplicate'; times?: number }
  /** Holds the next N events and delivers them newest first once N are held (or on flushWebhooks). */
  | { kind: 'webhook_out_of_order'; times?: number };

export type PayPalActiveFault = ActiveFault<PayPalFault>;

const KINDS: readonly PayPalFault['kind'][] = [
  'token_unavailable',
  'token_expired',
  'server_error',
  'rate_limit',
  'hang',
  'drop_after_capture',
  'webhook_duplicate',
  'webhook_out_of_order',
];

/** Checks one fault from JSON or code, naming the first problem. */
export function parseFault(item: unknown, index = 0): PayPalFault {
  const where = `faults[${index}]`;
  const fault = checkFault(item, where, KINDS);
  if (fault.kind === 'token_unavailable') {
    if (fault.status !== undefined && ![500, 503].includes(fault.status as number))
      throw new FaultValidationError(`${where}.status must be 500 or 503`);
    if (fault.drop !== undefined && typeof fault.drop !== 'boolean')
      throw new FaultValidationError(`${where}.drop must be a boolean`);
  }
  return { ...fault } as PayPalFault;
}

export function validateFaults(input: unknown): PayPalFault[] {
  if (!Array.isArray(input)) throw new FaultValidationError('faults must be an array');
  return input.map((item: unknown, index) => parseFault(item, index));
}

/** What the analytics service needs from GA4's Measurement Protocol, in our terms. */

/** One GA4 event: a name and its parameters (recommended events: sign_up, purchase, refund …). */
export interface Ga4Event {
  name: string;
  params: Record<string, unknown>;
}

/** One Measurement Protocol request body: the events of one client id. */
export interface Ga4Payload {
  client_id: string;
  user_id?: string;
  consent?: { ad_user_data?: 'GRANTED' | 'DENIED'; ad_personalization?: 'GRANTED' | 'DENIED' };
  events: Array<Ga4Event & { timestamp_micros?: number }>;
}

/** One message of `/debug/mp/collect`'s answer, as GA4 words it. */
export interface ValidationMessage {
  fieldPath: string;
  description: string;
  validationCode: string;
}

export interface CollectOutcome {
  status: number;
  /** From `/debug/mp/collect`; empty for `/mp/collect` (which says nothing about what it dropped). */
  validationMessages: ValidationMessage[];
}

/** A failed Measurement Protocol call: `unavailable` is worth another attempt, `rejected` is not. */
export class Ga4Error extends Error {
  constructor(
    readonly kind: 'unavailable' | 'rejected',
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Ga4Error';
  }
}

export interface Ga4Gateway {
  /** Posts one request: to `/debug/mp/collect` when `validate`, else `/mp/collect`. Throws Ga4Error. */
  collect(payload: Ga4Payload, options: { validate: boolean; attempt: number }): Promise<CollectOutcome>;
  /** Worth another attempt (network, timeout, 5xx, 429). */
  isTransient(error: unknown): boolean;
  /** Transient and a sign GA4 is unwell (counts towards the circuit breaker). */
  isOutage(error: unknown): boolean;
}

/** The Measurement Protocol's limits (developers.google.com/analytics/devguides/collection/protocol/ga4). */
export const GA4_LIMITS = {
  eventsPerRequest: 25,
  paramsPerEvent: 25,
  nameLength: 40,
  paramValueLength: 100,
  userProperties: 25,
  userPropertyNameLength: 24,
  userPropertyValueLength: 36,
  requestBytes: 130 * 1024,
  /** Events older than this are not accepted (72 hours). */
  maxAgeMs: 72 * 3600 * 1000,
} as const;

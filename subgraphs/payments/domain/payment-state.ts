import type { PaymentStatus } from '../db/schema';

/**
 * Which status changes a payment may make. Answers from the provider (responses, webhooks,
 * reconciliation) arrive in any order; a payment only ever moves forward.
 */
const FORWARD: Record<PaymentStatus, readonly PaymentStatus[]> = {
  PENDING: ['PROCESSING', 'REQUIRES_ACTION', 'SUCCEEDED', 'DECLINED'],
  PROCESSING: ['REQUIRES_ACTION', 'SUCCEEDED', 'DECLINED'],
  REQUIRES_ACTION: ['PROCESSING', 'SUCCEEDED', 'DECLINED'],
  DECLINED: [],
  SUCCEEDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  REFUNDED: [],
};

export function canMove(from: PaymentStatus, to: PaymentStatus): boolean {
  return from === to || FORWARD[from].includes(to);
}

/** Status after refunds totalling `refunded` of `amount`. */
export function refundedStatus(amount: number, refunded: number): PaymentStatus {
  if (refunded <= 0) return 'SUCCEEDED';
  return refunded >= amount ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

/** Statuses whose outcome is not known yet: reconciliation keeps asking the provider. */
export const UNSETTLED: readonly PaymentStatus[] = ['PENDING', 'PROCESSING', 'REQUIRES_ACTION'];

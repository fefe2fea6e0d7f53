import { PAYMENT_STATUSES, type PaymentStatus } from '../../../../subgraphs/payments/db/schema';
import { canMove, refundedStatus } from '../../../../subgraphs/payments/domain/payment-state';

const allowed: Array<[PaymentStatus, PaymentStatus]> = [
  ['PENDING', 'PROCESSING'],
  ['PENDING', 'REQUIRES_ACTION'],
  ['PENDING', 'SUCCEEDED'],
  ['PENDING', 'DECLINED'],
  ['PROCESSING', 'REQUIRES_ACTION'],
  ['PROCESSING', 'SUCCEEDED'],
  ['PROCESSING', 'DECLINED'],
  ['REQUIRES_ACTION', 'PROCESSING'],
  ['REQUIRES_ACTION', 'SUCCEEDED'],
  ['REQUIRES_ACTION', 'DECLINED'],
  ['SUCCEEDED', 'PARTIALLY_REFUNDED'],
  ['SUCCEEDED', 'REFUNDED'],
  ['PARTIALLY_REFUNDED', 'REFUNDED'],
];

describe('payment state', () => {
  it.each(PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.map((to) => [from, to] as const)))(
    '%s → %s',
    (from, to) => {
      const expected = from === to || allowed.some(([a, b]) => a === from && b === to);
      expect(canMove(from, to)).toBe(expected);
    },
  );

  it('never moves a succeeded payment back, nor revives a declined one', () => {
    expect(canMove('SUCCEEDED', 'PENDING')).toBe(false);
    expect(canMove('SUCCEEDED', 'DECLINED')).toBe(false);
    expect(canMove('DECLINED', 'SUCCEEDED')).toBe(false);
  });

  it('names the refund state from the amounts', () => {
    expect(refundedStatus(1000, 0)).toBe('SUCCEEDED');
    expect(refundedStatus(1000, 400)).toBe('PARTIALLY_REFUNDED');
    expect(refundedStatus(1000, 1000)).toBe('REFUNDED');
    expect(refundedStatus(1000, 1200)).toBe('REFUNDED');
  });
});

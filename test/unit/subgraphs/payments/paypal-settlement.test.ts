import { checkoutRequestFor, settlementOf } from '../../../../subgraphs/payments/domain/payments.service';
import type {
  CheckoutCapture,
  CheckoutOrderState,
} from '../../../../subgraphs/payments/provider/checkout-gateway.port';
import type { PaymentRow } from '../../../../subgraphs/payments/db/schema';

const priced = { amount: 1000, currency: 'USD' };
const order = (status: CheckoutOrderState['status'], capture?: Partial<CheckoutCapture>): CheckoutOrderState => ({
  orderId: 'ORDER1',
  status,
  amount: 1000,
  currency: 'USD',
  ...(capture
    ? { capture: { id: 'CAP1', status: 'completed', amount: 1000, currency: 'USD', amountRefunded: 0, ...capture } }
    : {}),
});

describe('settlementOf: what a PayPal order means for our payment', () => {
  it.each([
    ['gone (expired unapproved)', null, { status: 'DECLINED', declineCode: 'order_expired' }],
    ['waiting for the payer', order('created'), { status: 'REQUIRES_ACTION', reference: 'ORDER1' }],
    ['approved, not captured', order('approved'), { status: 'REQUIRES_ACTION', reference: 'ORDER1' }],
    ['captured', order('completed', {}), { status: 'SUCCEEDED', reference: 'ORDER1', amountRefunded: 0 }],
    [
      'captured, partly refunded',
      order('completed', { status: 'partially_refunded', amountRefunded: 300 }),
      { status: 'SUCCEEDED', amountRefunded: 300 },
    ],
    ['capture pending', order('completed', { status: 'pending' }), { status: 'PROCESSING' }],
    [
      'capture denied',
      order('completed', { status: 'declined' }),
      { status: 'DECLINED', declineCode: 'capture_declined' },
    ],
    ['captured for another amount than priced', order('completed', { amount: 999 }), { status: 'PROCESSING' }],
    ['captured in another currency', order('completed', { currency: 'EUR' }), { status: 'PROCESSING' }],
  ] as const)('%s', (_name, state, expected) => {
    expect(settlementOf(priced, state)).toMatchObject(expected);
  });
});

describe('checkoutRequestFor', () => {
  it('derives the order from the row alone, with return and cancel URLs on the site', () => {
    const row = {
      id: '11111111-1111-4111-8111-111111111111',
      listingId: '22222222-2222-4222-8222-222222222222',
      amount: 1000,
      currency: 'USD',
    } as PaymentRow;
    expect(checkoutRequestFor(row, 'https://saypro.example')).toEqual({
      paymentId: row.id,
      amount: 1000,
      currency: 'USD',
      description: `SayPro posting fee for listing ${row.listingId}`,
      returnUrl: `https://saypro.example/paypal/return?payment=${row.id}&listing=${row.listingId}`,
      cancelUrl: `https://saypro.example/paypal/cancel?payment=${row.id}&listing=${row.listingId}`,
      reference: row.listingId,
    });
  });
});

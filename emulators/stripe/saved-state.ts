import { z } from 'zod';
import { parseWith } from '../shared/state-file';
import type { SavedKey } from './idempotency';
import type { Charge, PaymentIntent, PaymentMethod, Refund, StripeEvent, StripeStore } from './types';

/** The format `snapshotOf` writes; raise it when the shape changes (and read the old one). */
export const STATE_VERSION = 1;

/** A Stripe object, checked as far as the emulator's lookups need (id, kind); the rest was written by this code. */
function objectOf<T>(kind: string, extra: z.ZodRawShape = {}): z.ZodType<T> {
  return z
    .object({ id: z.string().min(1), object: z.literal(kind), ...extra })
    .passthrough() as unknown as z.ZodType<T>;
}

export interface SavedState {
  paymentIntents: PaymentIntent[];
  charges: Charge[];
  refunds: Refund[];
  paymentMethods: PaymentMethod[];
  events: StripeEvent[];
  /** Which test card each created payment method stands for. */
  testCards: Record<string, string>;
  idempotencyKeys: SavedKey[];
}

const savedStateSchema: z.ZodType<SavedState> = z.object({
  paymentIntents: z.array(objectOf<PaymentIntent>('payment_intent')),
  charges: z.array(objectOf<Charge>('charge')),
  refunds: z.array(objectOf<Refund>('refund')),
  paymentMethods: z.array(objectOf<PaymentMethod>('payment_method')),
  events: z.array(objectOf<StripeEvent>('event', { pending_webhooks: z.number().int().nonnegative() })),
  testCards: z.record(z.string()),
  idempotencyKeys: z.array(
    z.object({
      id: z.string(),
      endpoint: z.string(),
      fingerprint: z.string(),
      createdAt: z.number(),
      // zod reads an `unknown` field as optional; the answer is always there, since we wrote it.
      saved: z.object({ status: z.number().int(), body: z.unknown(), requestId: z.string() }) as z.ZodType<
        SavedKey['saved']
      >,
    }),
  ),
});

/**
 * What survives a restart: every object, every event (those still owed to the webhook endpoint
 * have `pending_webhooks` > 0 and are sent again) and the saved idempotent answers. The request
 * and delivery logs and the faults are this run's only.
 */
export function snapshotOf(store: StripeStore, idempotencyKeys: SavedKey[]): SavedState {
  return {
    paymentIntents: [...store.paymentIntents.values()],
    charges: [...store.charges.values()],
    refunds: [...store.refunds.values()],
    paymentMethods: [...store.paymentMethods.values()],
    events: store.events,
    testCards: Object.fromEntries(store.testCards),
    idempotencyKeys,
  };
}

export const parseSavedState = parseWith(savedStateSchema);

export function storeFrom(state: SavedState): StripeStore {
  const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((item) => [item.id, item]));
  return {
    paymentIntents: byId(state.paymentIntents),
    charges: byId(state.charges),
    refunds: byId(state.refunds),
    paymentMethods: byId(state.paymentMethods),
    events: state.events,
    testCards: new Map(Object.entries(state.testCards)),
  };
}

import { z } from 'zod';
import { parseWith } from '../shared/state-file';
import type { SavedRequestId } from './idempotency';
import type { PayPalEvent, Store, StoredCapture, StoredOrder, StoredRefund } from './store';

/** The format `snapshotOf` writes; raise it when the shape changes (and read the old one). */
export const STATE_VERSION = 1;

export interface SavedState {
  orders: StoredOrder[];
  captures: StoredCapture[];
  refunds: StoredRefund[];
  events: PayPalEvent[];
  requestIds: SavedRequestId[];
}

/** Checked as far as the emulator's lookups need (ids and links between them); the rest was written by this code. */
const withId = <T>(extra: z.ZodRawShape = {}) =>
  z.object({ id: z.string().min(1), ...extra }).passthrough() as unknown as z.ZodType<T>;

const savedStateSchema: z.ZodType<SavedState> = z.object({
  orders: z.array(withId<StoredOrder>({ status: z.string(), clientId: z.string(), expiresAt: z.number() })),
  captures: z.array(withId<StoredCapture>({ orderId: z.string(), refundIds: z.array(z.string()) })),
  refunds: z.array(withId<StoredRefund>({ captureId: z.string() })),
  events: z.array(withId<PayPalEvent>({ event_type: z.string() })),
  requestIds: z.array(
    z.object({
      key: z.string(),
      operation: z.string(),
      createdAt: z.number(),
      made: z.object({
        kind: z.enum(['order', 'refund']),
        id: z.string(),
        status: z.number().int(),
        representation: z.boolean(),
      }),
    }),
  ),
});

/**
 * What survives a restart: orders (an approved one can still be captured, an unapproved one still
 * expires on time), captures, refunds, events and the PayPal-Request-Ids with what they made, so a
 * retry after a restart answers the same order. Access tokens do not: clients get 401 and fetch a
 * new one, as after PayPal expires a token. Requests, deliveries and faults are this run's only.
 */
export function snapshotOf(store: Store, requestIds: SavedRequestId[]): SavedState {
  return {
    orders: [...store.orders.values()],
    captures: [...store.captures.values()],
    refunds: [...store.refunds.values()],
    events: store.events,
    requestIds,
  };
}

export const parseSavedState = parseWith(savedStateSchema);

export function storeFrom(state: SavedState): Store {
  const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((item) => [item.id, item]));
  return {
    orders: byId(state.orders),
    captures: byId(state.captures),
    refunds: byId(state.refunds),
    events: state.events,
  };
}

import { observedLoader } from '../../lib/loaders';
import { createByIdLoader, createGroupedLoader } from '../../lib/loaders';
import { decodeCursor } from '../../lib/pagination';
import type { BaseContext } from '../../lib/subgraph';
import type { PaymentRow } from './db/schema';
import type { PaymentsService } from './domain/payments.service';

export interface PaymentsDeps {
  payments: PaymentsService;
}

/** Fresh loaders per request: a page of 50 listings' payment state is one query. */
export function createLoaders(deps: PaymentsDeps) {
  return {
    payment: createByIdLoader<PaymentRow>('Transaction', (ids) => deps.payments.byIds(ids), 'payments'),
    latestByListing: observedLoader<string, PaymentRow | null>('payments', 'latestByListing', async (listingIds) => {
      const latest = await deps.payments.latestByListings(listingIds);
      return listingIds.map((id) => latest.get(id) ?? null);
    }),
    /** `User.payments` for every user of a page in one query per (page size, cursor). */
    userPayments: createGroupedLoader<{ userId: string; limit: number; after?: string | null }, PaymentRow[]>(
      { service: 'payments', loader: 'userPayments' },
      (key) => `${key.limit}|${key.after ?? ''}`,
      async (keys) => {
        const { limit, after } = keys[0]!;
        const pages = await deps.payments.pagesByUsers(
          keys.map((k) => k.userId),
          limit,
          after ? decodeCursor(after) : undefined,
        );
        return keys.map((k) => pages.get(k.userId) ?? []);
      },
      (key) => `${key.userId}|${key.limit}|${key.after ?? ''}`,
    ),
    totalsByUser: observedLoader<string, Array<{ amount: number; currency: string }>>(
      'payments',
      'totalsByUser',
      async (userIds) => {
        const totals = await deps.payments.totalsByUsers(userIds);
        return userIds.map((id) => totals.get(id) ?? []);
      },
    ),
  };
}

export type PaymentsContext = BaseContext & PaymentsDeps & { loaders: ReturnType<typeof createLoaders> };

export function createContext(deps: PaymentsDeps) {
  return (base: BaseContext): PaymentsContext => ({ ...base, ...deps, loaders: createLoaders(deps) });
}

import { allows } from '../../../lib/permissions';
import { loadOrNull } from '../../../lib/loaders';
import type { PaymentsContext } from '../context';
import { toTransaction, type Transaction } from './transaction';

/** Transaction references resolve for whoever may read the payment (lib/permissions.ts); null for anyone else. */
export async function resolveTransactionReference(
  reference: Pick<Transaction, 'id'>,
  ctx: PaymentsContext,
): Promise<Transaction | null> {
  const row = await loadOrNull(ctx.loaders.payment, reference.id);
  return row && allows(ctx.viewer, 'payment.read', row.userId) ? toTransaction(row) : null;
}

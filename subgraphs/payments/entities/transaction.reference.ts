import { isAdmin } from '../../../lib/auth';
import { loadOrNull } from '../../../lib/loaders';
import type { PaymentsContext } from '../context';
import { toTransaction, type Transaction } from './transaction';

/** Transaction references resolve for the payer and admins; null for anyone else. */
export async function resolveTransactionReference(reference: Pick<Transaction, 'id'>, ctx: PaymentsContext): Promise<Transaction | null> {
  const row = await loadOrNull(ctx.loaders.payment, reference.id);
  return row && (isAdmin(ctx.viewer) || ctx.viewer.userId === row.userId) ? toTransaction(row) : null;
}

import { startDrainLoop } from '../../../lib/drain-loop';
import type { Logger } from '../../../lib/logger';
import type { IndexNowSender } from '../domain/indexnow-sender';

/** How often the sender looks for due URLs: a fraction of the batch window (a burst still becomes one POST). */
export const senderIntervalMs = (batchWindowMs: number): number =>
  Math.max(50, Math.min(1000, Math.floor(batchWindowMs / 4)));

/** Every `intervalMs`, sends due IndexNow batches (one POST per host) until none is due. */
export function startIndexNowSender(sender: IndexNowSender, logger: Logger, intervalMs: number): () => void {
  return startDrainLoop({
    intervalMs,
    batch: async () => (await sender.flush()).claimed,
    logger,
    failure: 'indexnow flush failed',
    errorFields: (err) => ({ error: err.name, message: err.message }),
  });
}

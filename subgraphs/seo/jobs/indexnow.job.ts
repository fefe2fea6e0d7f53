import type { Logger } from '../../../lib/logger';
import type { IndexNowSender } from '../domain/indexnow-sender';

/** How often the sender looks for due URLs: a fraction of the batch window (a burst still becomes one POST). */
export const senderIntervalMs = (batchWindowMs: number): number =>
  Math.max(50, Math.min(1000, Math.floor(batchWindowMs / 4)));

/** Every `intervalMs`, sends due IndexNow batches (one POST per host) until none is due. */
export function startIndexNowSender(sender: IndexNowSender, logger: Logger, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        for (let out = await sender.flush(); out.claimed > 0; out = await sender.flush());
      } catch (err) {
        logger.error({ error: (err as Error).name, message: (err as Error).message }, 'indexnow flush failed');
      } finally {
        running = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

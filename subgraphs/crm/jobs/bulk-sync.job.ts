import type { Logger } from '../../../lib/logger';
import type { CrmBulkSync } from '../domain/bulk-sync.service';

/** Every `intervalMs` (once `ready` holds), picks up a bulk sync job that is due and no live process holds. Stopping releases the job. */
export function startBulkSyncRunner(
  bulk: CrmBulkSync,
  logger: Logger,
  intervalMs: number,
  ready: () => boolean = () => true,
): () => Promise<void> {
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    if (stopped || !ready()) return;
    current = current.then(() =>
      bulk
        .runOnce(() => stopped)
        .catch((err: unknown) => logger.error({ error: (err as Error).name }, 'crm bulk sync runner failed')),
    );
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await current;
  };
}

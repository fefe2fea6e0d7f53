import type { Logger } from '../../../lib/logger';
import type { CrmService } from '../domain/crm.service';

/** Every `intervalMs` (once `ready` holds), sends pending contacts to the CRM in batches until none is due. */
export function startCrmFlusher(
  crm: CrmService,
  logger: Logger,
  intervalMs: number,
  ready: () => boolean = () => true,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running || !ready()) return;
    running = true;
    void (async () => {
      try {
        let synced = 0;
        for (let n = await crm.flush(); n > 0; n = await crm.flush()) synced += n;
        if (synced > 0) logger.info({ synced }, 'crm contacts synced');
      } catch (err) {
        logger.error({ error: (err as Error).name }, 'crm flush failed');
      } finally {
        running = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

import { startDrainLoop } from '../../../lib/drain-loop';
import type { Logger } from '../../../lib/logger';
import type { CrmService } from '../domain/crm.service';

/** Every `intervalMs` (once `ready` holds), sends pending contacts to the CRM in batches until none is due. */
export function startCrmFlusher(
  crm: CrmService,
  logger: Logger,
  intervalMs: number,
  ready: () => boolean = () => true,
): () => void {
  return startDrainLoop({
    intervalMs,
    batch: () => crm.flush(),
    logger,
    failure: 'crm flush failed',
    drained: (synced) => logger.info({ synced }, 'crm contacts synced'),
    ready,
  });
}

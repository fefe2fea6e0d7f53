import { startDrainLoop } from '../../../lib/drain-loop';
import type { Logger } from '../../../lib/logger';
import type { AnalyticsService } from '../domain/analytics.service';

/** Every `intervalMs`, sends queued GA4 events in rounds until none is due. */
export function startGa4Sender(analytics: AnalyticsService, logger: Logger, intervalMs: number): () => void {
  return startDrainLoop({
    intervalMs,
    batch: () => analytics.flush(),
    logger,
    failure: 'ga4 send round failed',
    errorFields: (err) => ({ error: err.name, message: err.message }),
    drained: (claimed) => logger.debug({ claimed }, 'ga4 events sent'),
  });
}

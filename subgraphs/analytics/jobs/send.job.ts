import type { Logger } from '../../../lib/logger';
import type { AnalyticsService } from '../domain/analytics.service';

/** Every `intervalMs`, sends queued GA4 events in rounds until none is due. */
export function startGa4Sender(analytics: AnalyticsService, logger: Logger, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        let claimed = 0;
        for (let n = await analytics.flush(); n > 0; n = await analytics.flush()) claimed += n;
        if (claimed > 0) logger.debug({ claimed }, 'ga4 events sent');
      } catch (err) {
        logger.error({ error: (err as Error).name, message: (err as Error).message }, 'ga4 send round failed');
      } finally {
        running = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
